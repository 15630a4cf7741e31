package dev.iotjobs.fleet;

import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The AMQP messages of the fleet's AMQP mode in the AMQP types the device SDK sends (read back after encoding, as
 * the hub reads them): the hub answers by type, so a string where the SDK sends a uuid or an int would be a
 * different client. The hub's tests drive the whole exchange end to end.
 */
class AmqpMessagesTest {

    @Test
    void putToken_uuidMessageId_cbsAddressing_andTheTokenAsAnAmqpString() {
        UUID id = UUID.randomUUID();
        Message m = roundTrip(AmqpFleet.putToken(id, "127.0.0.1/devices/d1", "SharedAccessSignature sr=x&sig=y&se=1"));
        assertEquals(id, m.getMessageId(), "the message id is an AMQP uuid");
        assertEquals("$cbs", m.getAddress());
        assertEquals("cbs", m.getReplyTo());
        assertEquals("put-token", AmqpFleet.applicationProperty(m, "operation"));
        assertEquals("servicebus.windows.net:sastoken", AmqpFleet.applicationProperty(m, "type"));
        assertEquals("127.0.0.1/devices/d1", AmqpFleet.applicationProperty(m, "name"));
        assertEquals("SharedAccessSignature sr=x&sig=y&se=1", ((AmqpValue) m.getBody()).getValue());
    }

    @Test
    void methodAnswer_uuidCorrelation_intStatus_identity_andADataBody() {
        UUID request = UUID.randomUUID();
        byte[] body = "{\"Response\":\"lockDoor called successfully\"}".getBytes(StandardCharsets.UTF_8);
        Message m = roundTrip(AmqpFleet.methodAnswer("d1", request, 200, body));
        assertEquals(request, m.getCorrelationId(), "the correlation id is the request's, as an AMQP uuid");
        assertInstanceOf(String.class, m.getMessageId());
        assertEquals(Integer.valueOf(200), AmqpFleet.applicationProperty(m, AmqpFleet.METHOD_STATUS), "IoThub-status is an AMQP int");
        assertEquals("d1", AmqpFleet.applicationProperty(m, AmqpFleet.CONNECTION_DEVICE_ID));
        assertNull(AmqpFleet.applicationProperty(m, AmqpFleet.CONNECTION_MODULE_ID));
        assertNotNull(m.getMessageAnnotations(), "present, empty, as the SDK sends them");
        assertTrue(m.getMessageAnnotations().getValue().isEmpty());
        assertEquals(new Binary(body), ((Data) m.getBody()).getValue());
    }

    @Test
    void methodAnswerOfAModule_namesDeviceAndModule() {
        Message m = roundTrip(AmqpFleet.methodAnswer("d1/sim", UUID.randomUUID(), 404, new byte[0]));
        assertEquals("d1", AmqpFleet.applicationProperty(m, AmqpFleet.CONNECTION_DEVICE_ID));
        assertEquals("sim", AmqpFleet.applicationProperty(m, AmqpFleet.CONNECTION_MODULE_ID));
        assertEquals(Integer.valueOf(404), AmqpFleet.applicationProperty(m, AmqpFleet.METHOD_STATUS));
    }

    @Test
    void methodAnswers_lockDoor200_otherMethods404_faultsByDeviceId() {
        assertEquals(200, MethodAnswers.answer(null, "d1", "lockDoor").status());
        assertEquals("{\"Response\":\"Unknown method 'reboot'\"}",
                new String(MethodAnswers.answer(null, "d1", "reboot").body(), StandardCharsets.UTF_8));
        assertEquals(404, MethodAnswers.answer(null, "d1", "reboot").status());
        FleetSimulator.Faults allSilent = new FleetSimulator.Faults(0, 1, 0);
        assertNull(MethodAnswers.answer(allSilent, "d1", "lockDoor"));
        FleetSimulator.Faults allFail = new FleetSimulator.Faults(1, 0, 0);
        assertEquals(500, MethodAnswers.answer(allFail, "d1", "lockDoor").status());
        assertEquals(200, MethodAnswers.answer(FleetSimulator.Faults.HEALTHY, "d1", "reboot").status());
    }

    private static Message roundTrip(Message m) {
        byte[] buffer = new byte[4096];
        int length = m.encode(buffer, 0, buffer.length);
        Message decoded = Message.Factory.create();
        decoded.decode(buffer, 0, length);
        return decoded;
    }
}
