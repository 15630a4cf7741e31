package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.method.MethodRequest;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.query.Condition;
import dev.iotjobs.localhub.device.TwinChange;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * What a job was asked to do, validated: the body of {@code PUT /jobs/v2/{jobId}} as IoT Hub accepts it.
 *
 * @param updateTwin echo of the twin fragment (etag "*", tags, properties.desired), for twin jobs
 */
public record JobDefinition(String jobId, JobType type, String queryCondition, Condition condition,
                            Instant createdTime, Instant startTime, long maxExecutionTimeSeconds,
                            MethodRequest method, ObjectNode updateTwin, TwinChange twinChange) {

    private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
    /** What IoT Hub assumes when a client sends no maxExecutionTimeInSeconds. */
    static final long DEFAULT_MAX_EXECUTION_SECONDS = 3600;

    public static void validateJobId(String jobId) {
        if (jobId == null || !JOB_ID.matcher(jobId).matches()) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Job ID '" + jobId
                    + "' is invalid: use 1 to 64 ASCII letters, digits or hyphens.");
        }
    }

    /** Validates a create request; every problem is a 400 (or 412 for a twin etag other than "*"). */
    public static JobDefinition fromRequest(String pathJobId, ObjectNode body, Instant now) {
        validateJobId(pathJobId);
        String bodyJobId = Json.text(body, "jobId");
        if (bodyJobId != null && !bodyJobId.equals(pathJobId)) {
            throw ErrorCode.ARGUMENT_INVALID.exception("The jobId in the body ('" + bodyJobId
                    + "') does not match the one in the URL ('" + pathJobId + "').");
        }
        String typeName = Json.text(body, "type");
        if (typeName == null) {
            throw ErrorCode.ARGUMENT_NULL.exception("The job 'type' is required.");
        }
        JobType type = JobType.fromWire(typeName);
        String queryCondition = Json.text(body, "queryCondition");
        if (queryCondition == null || queryCondition.isBlank()) {
            throw ErrorCode.ARGUMENT_NULL.exception("The job 'queryCondition' is required (use \"*\" for all devices).");
        }
        Condition condition = Condition.parse(queryCondition);
        Instant start = parseStart(Json.text(body, "startTime"), now);
        long maxSeconds = maxExecution(body.get("maxExecutionTimeInSeconds"));
        MethodRequest method = null;
        ObjectNode updateTwin = null;
        TwinChange change = null;
        if (type == JobType.METHOD) {
            JsonNode m = body.get("cloudToDeviceMethod");
            if (m == null || m.isNull()) {
                throw ErrorCode.ARGUMENT_NULL.exception("A scheduleDeviceMethod job needs 'cloudToDeviceMethod'.");
            }
            method = MethodRequest.fromJson(m);
        } else {
            JsonNode t = body.get("updateTwin");
            if (!(t instanceof ObjectNode twin)) {
                throw ErrorCode.ARGUMENT_NULL.exception("A scheduleUpdateTwin job needs an 'updateTwin' object.");
            }
            String etag = Json.text(twin, "etag");
            if (!"*".equals(etag)) {
                throw ErrorCode.PRECONDITION_FAILED.exception("A scheduleUpdateTwin job only accepts etag \"*\", not "
                        + (etag == null ? "none" : "'" + etag + "'") + ".");
            }
            change = TwinChange.fromServiceBody(twin, false);
            if (!change.touchesDesired() && (change.tags() == null || change.tags().isEmpty())) {
                throw ErrorCode.ARGUMENT_INVALID.exception("The job's updateTwin changes neither tags nor desired properties.");
            }
            updateTwin = echo(change);
        }
        return new JobDefinition(pathJobId, type, queryCondition, condition, now, start, maxSeconds, method,
                updateTwin, change);
    }

    private static ObjectNode echo(TwinChange change) {
        ObjectNode n = Json.object();
        n.put("etag", "*");
        n.set("tags", change.tags() == null ? Json.object() : change.tags().deepCopy());
        ObjectNode properties = n.putObject("properties");
        properties.set("desired", change.desired() == null ? Json.object() : change.desired().deepCopy());
        return n;
    }

    private static Instant parseStart(String text, Instant now) {
        if (text == null || text.isBlank()) {
            return now;
        }
        try {
            return Instant.parse(text.endsWith("Z") || text.contains("+") ? text : text + "Z");
        } catch (DateTimeParseException e) {
            throw ErrorCode.ARGUMENT_INVALID.exception("startTime '" + text + "' is not an ISO-8601 UTC time.");
        }
    }

    private static long maxExecution(JsonNode node) {
        if (node == null || node.isNull()) {
            return DEFAULT_MAX_EXECUTION_SECONDS;
        }
        if (!node.isIntegralNumber() || node.asLong() <= 0) {
            throw ErrorCode.ARGUMENT_INVALID.exception("maxExecutionTimeInSeconds must be a positive integer.");
        }
        return node.asLong();
    }
}
