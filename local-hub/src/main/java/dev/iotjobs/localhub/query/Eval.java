package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A compiled expression. Evaluating one document must not parse text or use reflection.
 * A {@code null} result means <em>undefined</em> (missing property, unsupported comparison, ...).
 */
@FunctionalInterface
interface Eval {
    JsonNode eval(JsonNode document);
}
