package dev.iotjobs.localhub.c2d;

/** How a queued message looks from outside (the console): its state and delivery count. */
public record C2dMessageState(C2dMessage message, String state, int deliveryCount) {
}
