package dev.iotjobs.localhub.query;

/** Semantic checks on a parsed statement that do not depend on the projection details. */
final class Validator {
    private Validator() {
    }

    static void check(Ast.Statement st) {
        if (st.source() == Source.DEVICES_JOBS) {
            if (!st.items().isEmpty()) {
                throw Errors.semantic(st.items().get(0).position(),
                        "FROM devices.jobs supports only SELECT * (no projections or aggregates)");
            }
            if (!st.groupBy().isEmpty()) {
                throw Errors.semantic(st.groupBy().get(0).position(), "GROUP BY is not supported on devices.jobs");
            }
        }
        if (st.isSelectStar() && !st.groupBy().isEmpty()) {
            throw Errors.semantic(st.groupBy().get(0).position(),
                    "GROUP BY needs a SELECT list of grouped properties and aggregates, not SELECT *");
        }
    }
}
