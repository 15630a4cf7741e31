package dev.iotjobs.localhub.c2d;

/**
 * One delivery of a message to a device: the message, the lock token the device settles it with, and how
 * many times it was abandoned before ({@code redelivered}: it was handed out before, MQTT's DUP flag).
 */
public record C2dDelivery(C2dMessage message, String lockToken, int deliveryCount, boolean redelivered) {
}
