package dev.iotjobs.localhub.console;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The console's pages, read once from the jar ({@code src/main/resources/console/}): plain HTML, CSS and
 * JavaScript modules, no build step and nothing fetched from elsewhere. Only the files listed here are served.
 */
final class StaticFiles {
    static final List<String> FILES = List.of("index.html", "console.css", "app.js", "api.js", "ui.js",
            "devices.js", "device.js", "jobs.js", "job.js", "favicon.svg", "tier.js", "telemetry.js");
    private final Map<String, Buffer> bodies = new HashMap<>();

    private StaticFiles() {
    }

    static StaticFiles load(String folder) {
        StaticFiles files = new StaticFiles();
        for (String name : FILES) {
            String resource = folder + "/" + name;
            try (InputStream in = StaticFiles.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("The console file " + resource + " is missing from the jar");
                }
                files.bodies.put("/" + name, Buffer.buffer(in.readAllBytes()));
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read " + resource, e);
            }
        }
        files.bodies.put("/", files.bodies.get("/index.html"));
        return files;
    }

    void serve(RoutingContext ctx) {
        String path = ctx.request().path();
        Buffer body = bodies.get(path);
        if (body == null) {
            ctx.next();
            return;
        }
        ctx.response().putHeader("Content-Type", contentType(path)).end(body);
    }

    private static String contentType(String path) {
        if (path.endsWith(".js")) {
            return "text/javascript; charset=utf-8";
        }
        if (path.endsWith(".css")) {
            return "text/css; charset=utf-8";
        }
        if (path.endsWith(".svg")) {
            return "image/svg+xml";
        }
        return "text/html; charset=utf-8";
    }
}
