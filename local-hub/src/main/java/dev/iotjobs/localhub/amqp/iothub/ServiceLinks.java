package dev.iotjobs.localhub.amqp.iothub;

import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import org.apache.qpid.proton.amqp.transport.AmqpError;

/**
 * The service links of the IoT Hub AMQP endpoint (a connection whose put-token was a hub policy with
 * ServiceConnect): cloud-to-device messages sent by the service, their delivery feedback, and file-upload
 * notifications.
 */
final class ServiceLinks {

    /** {@code /messages/devicebound}: the service sends C2D messages, each addressed by its {@code to}. */
    void openCloudToDevice(IotHubAmqpConnection c, ProtonReceiver receiver) {
        IotHubAmqpConnection.refuse(receiver, AmqpError.NOT_IMPLEMENTED,
                "Cloud-to-device messages are not available on this hub yet.");
    }

    /** {@code /messages/serviceBound/feedback} and {@code .../filenotifications}: the hub sends to the service. */
    void openToService(IotHubAmqpConnection c, ProtonSender sender, LinkAddress address) {
        // File uploads are not emulated: the link works and never carries a notification.
        sender.open();
    }
}
