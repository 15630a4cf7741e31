package dev.iotjobs.localhub.amqp.iothub;

import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.message.Message;

import java.nio.charset.StandardCharsets;

/** A message body as bytes: a Data section as sent, an AmqpValue string or binary as its bytes, else none. */
final class AmqpBodies {
    private AmqpBodies() {
    }

    static byte[] bytes(Message m) {
        if (m.getBody() instanceof Data d && d.getValue() != null) {
            Binary b = d.getValue();
            byte[] out = new byte[b.getLength()];
            System.arraycopy(b.getArray(), b.getArrayOffset(), out, 0, b.getLength());
            return out;
        }
        if (m.getBody() instanceof AmqpValue v) {
            if (v.getValue() instanceof Binary b) {
                byte[] out = new byte[b.getLength()];
                System.arraycopy(b.getArray(), b.getArrayOffset(), out, 0, b.getLength());
                return out;
            }
            if (v.getValue() instanceof String s) {
                return s.getBytes(StandardCharsets.UTF_8);
            }
        }
        return new byte[0];
    }
}
