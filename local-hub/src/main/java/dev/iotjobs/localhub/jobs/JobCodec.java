package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;

/**
 * The durable forms of jobs and of their per-device records (see {@link JobStore} for the keys). Kept beside
 * the store, not in the model, so the model can change without the stored format changing by accident.
 */
final class JobCodec {
    private JobCodec() {
    }

    // ------------------------------------------------------------------ jobs

    /** The original request fields (re-validated on load) and the job-level state. */
    static byte[] encodeJob(Job job) {
        JobDefinition d = job.definition;
        ObjectNode request = Json.object();
        request.put("jobId", d.jobId());
        request.put("type", d.type().wireName());
        request.put("queryCondition", d.queryCondition());
        request.put("startTime", d.startTime().toString());
        request.put("maxExecutionTimeInSeconds", d.maxExecutionTimeSeconds());
        if (d.method() != null) {
            request.set("cloudToDeviceMethod", d.method().toJson());
        }
        if (d.updateTwin() != null) {
            request.set("updateTwin", d.updateTwin());
        }
        ObjectNode n = Json.object();
        n.set("request", request);
        n.put("createdTime", d.createdTime().toString());
        n.put("status", job.status().wireName());
        n.put("runStarted", job.runStarted() == null ? null : job.runStarted().toString());
        n.put("endTime", job.endTime() == null ? null : job.endTime().toString());
        n.put("failureReason", job.failureReason());
        n.put("statusMessage", job.statusMessage());
        return Json.bytes(n);
    }

    static Job decodeJob(byte[] bytes) {
        ObjectNode n = Json.readStored(bytes);
        ObjectNode request = (ObjectNode) n.get("request");
        Instant created = Instant.parse(n.get("createdTime").asText());
        JobDefinition parsed = JobDefinition.fromRequest(request.get("jobId").asText(), request, created);
        // The start time as stored: re-validating resolves a missing one to "now", which was then.
        JobDefinition d = new JobDefinition(parsed.jobId(), parsed.type(), parsed.queryCondition(),
                parsed.condition(), created, Instant.parse(request.get("startTime").asText()),
                parsed.maxExecutionTimeSeconds(), parsed.method(), parsed.updateTwin(), parsed.twinChange());
        return new Job(d, JobStatus.fromWire(n.get("status").asText()), instant(n, "runStarted"),
                instant(n, "endTime"), Json.text(n, "failureReason"), n.path("statusMessage").asText(""));
    }

    private static Instant instant(ObjectNode n, String field) {
        String text = Json.text(n, field);
        return text == null ? null : Instant.parse(text);
    }

    // ------------------------------------------------------------------ target lists

    static byte[] encodeTargets(String[] ids, int from, int to) {
        return written((to - from) * 24, g -> {
            g.writeStartArray();
            for (int i = from; i < to; i++) {
                g.writeString(ids[i]);
            }
            g.writeEndArray();
        });
    }

    static void decodeTargets(byte[] bytes, List<String> into) {
        Json.readStoredArray(bytes).forEach(n -> into.add(n.asText()));
    }

    // ------------------------------------------------------------------ per-device records

    /** The devices (by target position) a twin job completed in one batch, with the batch's times. */
    static byte[] encodeTwinBatch(int[] indices, long start, long end) {
        return written(32 + indices.length * 8, g -> {
            g.writeStartObject();
            g.writeNumberField("st", start);
            g.writeNumberField("et", end);
            g.writeArrayFieldStart("idx");
            for (int i : indices) {
                g.writeNumber(i);
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    static void applyTwinBatch(byte[] bytes, JobProgress progress) {
        ObjectNode n = Json.readStored(bytes);
        long start = n.get("st").asLong();
        long end = n.get("et").asLong();
        for (JsonNode i : n.get("idx")) {
            progress.transition(i.asInt(), DeviceJobStatus.RUNNING, start, null);
            progress.transition(i.asInt(), DeviceJobStatus.COMPLETED, end, null);
        }
    }

    static byte[] encodeOutcomes(List<JobStore.Outcome> outcomes) {
        return written(16 + outcomes.size() * 160, g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("d");
            for (JobStore.Outcome o : outcomes) {
                g.writeStartObject();
                g.writeNumberField("i", o.index());
                g.writeNumberField("s", o.status().ordinal());
                g.writeNumberField("st", o.start());
                g.writeNumberField("et", o.end());
                if (o.result() != null) {
                    g.writeFieldName("r");
                    Json.write(g, o.result());
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    static void applyOutcomes(byte[] bytes, JobProgress progress) {
        for (JsonNode n : Json.readStored(bytes).get("d")) {
            int index = n.get("i").asInt();
            if (index < 0 || index >= progress.size()) {
                continue;
            }
            JsonNode r = n.get("r");
            progress.transition(index, DeviceJobStatus.RUNNING, n.get("st").asLong(), null);
            progress.transition(index, DeviceJobStatus.ofOrdinal(n.get("s").asInt()), n.get("et").asLong(),
                    r instanceof ObjectNode o ? o : null);
        }
    }

    /** What a record's writer does with its generator. */
    private interface Body {
        void writeTo(JsonGenerator g) throws IOException;
    }

    /**
     * A record written straight to a generator: the same bytes as building a tree and serializing it, without
     * the tree, and with far less code for the JIT compiler to compile while a first big job runs.
     */
    private static byte[] written(int sizeHint, Body body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, sizeHint));
        try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
            body.writeTo(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
