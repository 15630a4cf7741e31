package dev.iotjobs.localhub.jobs;

import dev.iotjobs.localhub.model.ErrorCode;

/** The two kinds of scheduled (v2) jobs, with their wire names. */
public enum JobType {
    METHOD("scheduleDeviceMethod"), TWIN("scheduleUpdateTwin");

    private final String wireName;

    JobType(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static JobType fromWire(String name) {
        for (JobType t : values()) {
            if (t.wireName.equals(name)) {
                return t;
            }
        }
        throw ErrorCode.GENERIC_BAD_REQUEST.exception("Job type '" + name
                + "' is not supported: use scheduleDeviceMethod or scheduleUpdateTwin.");
    }
}
