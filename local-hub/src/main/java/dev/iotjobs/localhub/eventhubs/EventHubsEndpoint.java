package dev.iotjobs.localhub.eventhubs;

import dev.iotjobs.localhub.amqp.AmqpServer;
import dev.iotjobs.localhub.amqp.Cbs;
import dev.iotjobs.localhub.amqp.Links;
import dev.iotjobs.localhub.amqp.PolicyTokens;
import dev.iotjobs.localhub.amqp.Replies;
import dev.iotjobs.localhub.auth.Permission;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.auth.SharedAccessPolicy;
import dev.iotjobs.localhub.concurrent.ConnectionCap;
import dev.iotjobs.localhub.telemetry.TelemetryLog;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonHelper;
import io.vertx.proton.ProtonQoS;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import io.vertx.proton.ProtonServer;
import io.vertx.proton.ProtonServerOptions;
import org.apache.qpid.proton.amqp.DescribedType;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.transport.AmqpError;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * IoT Hub's built-in endpoint ({@code messages/events}) as an Event Hubs-compatible AMQP endpoint, read by the
 * unmodified Event Hubs clients ({@code EventHubConsumerClient}, {@code EventProcessorClient}) with a connection
 * string ending in {@code UseDevelopmentEmulator=true} (plain AMQP, SASL ANONYMOUS, then claims-based security).
 * <ul>
 *   <li>{@code $cbs}: put-token with a SAS token of a hub policy that grants Service Connect ({@code iothubowner},
 *       {@code service}); other policies are refused, as on IoT Hub.</li>
 *   <li>{@code $management}: READ of {@code com.microsoft:eventhub} (name, created_at, partition_ids) and
 *       {@code com.microsoft:partition} (begin/last sequence number, last offset and time, empty); the token rides in
 *       the request's {@code security_token}.</li>
 *   <li>Receivers on {@code {eventHub}/ConsumerGroups/{group}/Partitions/{p}} with the selector filter the clients
 *       send, owner levels ({@code com.microsoft:epoch}: a receiver with an owner level closes those with a lower or
 *       equal one, and those without, with {@code amqp:link:stolen}; one with a lower level, or without one, is refused
 *       while a higher level reads: Event Hubs' rule, "Balance partition load across multiple instances"), and
 *       credit-based flow.</li>
 * </ul>
 * Consumer groups are names only (the clients keep their own checkpoints): {@code $Default} and those configured.
 */
public final class EventHubsEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventHubsEndpoint.class);
    public static final String DEFAULT_CONSUMER_GROUP = "$Default";
    static final String MANAGEMENT = "$management";
    static final Symbol SELECTOR_FILTER = Symbol.valueOf("apache.org:selector-filter:string");
    static final Symbol EPOCH = Symbol.valueOf("com.microsoft:epoch");

    private final Vertx vertx;
    private final TelemetryLog log;
    private final String eventHubName;
    private final Set<String> consumerGroups;
    private final PolicyTokens tokens;
    private final Clock clock;
    /** Open readers by "{group}/{partition}" (group in lower case, as Event Hubs compares them). */
    private final Map<String, List<PartitionReader>> readers = new ConcurrentHashMap<>();
    private ProtonServer server;
    private ConnectionCap cap;
    private AutoCloseable subscription;

    private EventHubsEndpoint(Vertx vertx, TelemetryLog log, String eventHubName, Set<String> consumerGroups,
                              List<SharedAccessPolicy> policies, Clock clock) {
        this.vertx = vertx;
        this.log = log;
        this.eventHubName = eventHubName;
        Set<String> groups = new LinkedHashSet<>();
        groups.add(DEFAULT_CONSUMER_GROUP);
        consumerGroups.forEach(g -> groups.add(g));
        this.consumerGroups = groups;
        this.tokens = new PolicyTokens(policies, clock);
        this.clock = clock;
    }

    /**
     * Starts the endpoint on {@code host:port} (0: any free port).
     *
     * @param eventHubName   the event hub's name (the portal's "Event Hub-compatible name": the hub's name)
     * @param consumerGroups consumer groups besides {@code $Default}
     */
    public static Future<EventHubsEndpoint> start(Vertx vertx, String host, int port, TelemetryLog log,
                                                  String eventHubName, Set<String> consumerGroups,
                                                  List<SharedAccessPolicy> policies, Clock clock) {
        return start(vertx, host, port, log, eventHubName, consumerGroups, policies, clock,
                new ConnectionCap("Event Hubs-compatible (AMQP)", "HubLimits.eventHubsConnections", Integer.MAX_VALUE));
    }

    /**
     * As above, holding at most {@code cap} connections at once: more are refused with
     * {@code amqp:resource-limit-exceeded} in the Close that answers their Open, as Event Hubs does.
     */
    public static Future<EventHubsEndpoint> start(Vertx vertx, String host, int port, TelemetryLog log,
                                                  String eventHubName, Set<String> consumerGroups,
                                                  List<SharedAccessPolicy> policies, Clock clock, ConnectionCap cap) {
        EventHubsEndpoint endpoint = new EventHubsEndpoint(vertx, log, eventHubName, consumerGroups, policies, clock);
        endpoint.cap = cap;
        endpoint.subscription = log.onAppended(endpoint::partitionGrew);
        ProtonServerOptions options = AmqpServer.options(host, port);
        // Sockets that never get as far as AMQP (no SASL, no Open) are closed too; live clients send empty frames
        // at least every heartbeat.
        options.setIdleTimeout((int) Math.max(1, AmqpServer.HEARTBEAT_MILLIS * 5L / 2000))
                .setIdleTimeoutUnit(TimeUnit.SECONDS);
        return AmqpServer.listen(vertx, options, host, endpoint::connected)
                .map(server -> {
                    endpoint.server = server;
                    return endpoint;
                })
                .onFailure(e -> endpoint.close());
    }

    public int port() {
        return server.actualPort();
    }

    public String eventHubName() {
        return eventHubName;
    }

    public Set<String> consumerGroups() {
        return consumerGroups;
    }

    /**
     * The Event Hubs-compatible connection string for a policy, as the portal's "Built-in endpoints" blade gives
     * it, with {@code UseDevelopmentEmulator=true} (plain AMQP on this port).
     */
    public static String connectionString(String host, int port, String eventHubName, String policy, String key) {
        return "Endpoint=sb://" + host + ":" + port + "/;SharedAccessKeyName=" + policy + ";SharedAccessKey=" + key
                + ";EntityPath=" + eventHubName + ";UseDevelopmentEmulator=true";
    }

    @Override
    public void close() {
        if (subscription != null) {
            try {
                subscription.close();
            } catch (Exception e) {
                LOG.debug("Could not unsubscribe from the telemetry log", e);
            }
        }
        if (server != null) {
            Promise<Void> closed = Promise.promise();
            server.close(closed::handle);
            try {
                closed.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.debug("Event Hubs endpoint did not close in time", e);
            }
        }
    }

    private void partitionGrew(int partition) {
        for (Map.Entry<String, List<PartitionReader>> e : readers.entrySet()) {
            List<PartitionReader> group = e.getValue();
            synchronized (group) {
                for (PartitionReader reader : group) {
                    if (reader.partition == partition) {
                        reader.wake();
                    }
                }
            }
        }
    }

    private void connected(ProtonConnection connection) {
        if (!cap.tryAcquire()) {
            connection.setCondition(new ErrorCondition(AmqpError.RESOURCE_LIMIT_EXCEEDED, cap.refusal()));
            connection.openHandler(ar -> {
                connection.open();
                connection.close();
                connection.disconnect();
            });
            return;
        }
        boolean[] released = new boolean[1];
        connection.disconnectHandler(c -> {
            if (!released[0]) {
                released[0] = true;
                cap.release();
            }
            c.disconnect();
        });
        Cbs cbs = Cbs.install(connection, tokens, clock);
        ProtonSender[] managementReplies = new ProtonSender[1];
        connection.receiverOpenHandler(receiver -> {
            if (cbs.handles(receiver)) {
                return;
            }
            String address = receiver.getRemoteTarget() instanceof Target t ? t.getAddress() : null;
            if (MANAGEMENT.equals(address)) {
                receiver.setAutoAccept(false);
                receiver.handler((delivery, request) -> {
                    Message response = management(request);
                    if (!delivery.remotelySettled()) {
                        ProtonHelper.accepted(delivery, true);
                    }
                    if (managementReplies[0] != null && managementReplies[0].isOpen()) {
                        managementReplies[0].send(response);
                    }
                });
                Links.accept(receiver);
            } else {
                Links.refuse(receiver, Links.NOT_ALLOWED, "IoT Hub's built-in endpoint is read-only: devices send "
                        + "telemetry to the IoT hub (MQTT), not to '" + address + "'.");
            }
        });
        connection.senderOpenHandler(sender -> {
            if (cbs.handles(sender)) {
                return;
            }
            String address = sender.getRemoteSource() instanceof Source s ? s.getAddress() : null;
            if (MANAGEMENT.equals(address)) {
                sender.setQoS(ProtonQoS.AT_MOST_ONCE);
                managementReplies[0] = sender;
                Links.accept(sender);
            } else {
                openReader(cbs, sender, address);
            }
        });
        connection.disconnectHandler(c -> {
            removeReadersOf(c);
            c.disconnect();
        });
    }

    // ---- receivers ---------------------------------------------------------------------------------------

    /** {@code {eventHub}/ConsumerGroups/{group}/Partitions/{p}}: parsed, or a not-found text. */
    private record Entity(String consumerGroup, int partition) {
    }

    private Entity entity(String address) throws IllegalArgumentException {
        String[] parts = address == null ? new String[0] : address.split("/");
        if (parts.length != 5 || !parts[1].equalsIgnoreCase("ConsumerGroups") || !parts[3].equalsIgnoreCase("Partitions")) {
            throw new IllegalArgumentException(notFound(address) + " Receivers attach to "
                    + eventHubName + "/ConsumerGroups/{consumer group}/Partitions/{partition}.");
        }
        if (!parts[0].equalsIgnoreCase(eventHubName)) {
            throw new IllegalArgumentException(notFound(address) + wrongHub(parts[0]));
        }
        String group = consumerGroups.stream().filter(g -> g.equalsIgnoreCase(parts[2])).findFirst().orElse(null);
        if (group == null) {
            throw new IllegalArgumentException(notFound(address) + " Consumer group '" + parts[2]
                    + "' does not exist (this hub has " + consumerGroups + "); create it with --consumer-group "
                    + parts[2] + " when starting the hub.");
        }
        int partition;
        try {
            partition = Integer.parseInt(parts[4]);
        } catch (NumberFormatException e) {
            partition = -1;
        }
        if (partition < 0 || partition >= log.partitionCount()) {
            throw new IllegalArgumentException(notFound(address) + " Partitions are 0 to " + (log.partitionCount() - 1) + ".");
        }
        return new Entity(group, partition);
    }

    /** Event Hubs clients treat only this form of not-found as final (others are retried). */
    private static String notFound(String entity) {
        return "The messaging entity '" + entity + "' could not be found.";
    }

    private String wrongHub(String name) {
        return " This endpoint serves one event hub, '" + eventHubName + "' (the IoT hub's built-in endpoint), not '"
                + name + "': use the Event Hubs-compatible connection string (EntityPath=" + eventHubName
                + ") that the hub prints and writes to endpoints.properties, not the IoT Hub connection string or"
                + " an IoT Hub path such as messages/events.";
    }

    private void openReader(Cbs cbs, ProtonSender sender, String address) {
        Entity entity;
        try {
            entity = entity(address);
        } catch (IllegalArgumentException e) {
            Links.refuse(sender, Links.NOT_FOUND, e.getMessage());
            return;
        }
        String path = eventHubName.toLowerCase(Locale.ROOT) + "/consumergroups/"
                + entity.consumerGroup.toLowerCase(Locale.ROOT) + "/partitions/" + entity.partition;
        if (cbs.grant(g -> covers(g, path) && g.principal() instanceof SharedAccessPolicy p
                && p.grants(Permission.SERVICE_CONNECT)).isEmpty()) {
            Links.refuse(sender, Links.UNAUTHORIZED, "Reading " + address + " needs a put-token on $cbs with a SAS "
                    + "token of a policy granting Service Connect (iothubowner or service) whose resource covers it.");
            return;
        }
        EventPositions position;
        try {
            position = position(sender.getRemoteSource());
        } catch (IllegalArgumentException e) {
            Links.refuse(sender, Links.INVALID_FIELD, e.getMessage());
            return;
        }
        Object epochValue = sender.getRemoteProperties() == null ? null : sender.getRemoteProperties().get(EPOCH);
        Long epoch = epochValue instanceof Number n ? n.longValue() : null;
        long first = switch (position.kind()) {
            case EARLIEST -> log.beginSequence(entity.partition);
            case LATEST -> log.nextSequence(entity.partition);
            case SEQUENCE -> position.inclusive() ? position.value() : position.value() + 1;
            case ENQUEUED_TIME -> log.sequenceAt(entity.partition, Instant.ofEpochMilli(position.value()), position.inclusive());
        };
        PartitionReader reader = new PartitionReader(sender, vertx.getOrCreateContext(), log, entity.partition,
                entity.consumerGroup, epoch, first);
        String key = entity.consumerGroup.toLowerCase(Locale.ROOT) + "/" + entity.partition;
        List<PartitionReader> group = readers.computeIfAbsent(key, k -> new ArrayList<>());
        List<PartitionReader> stolen = new ArrayList<>();
        synchronized (group) {
            Long highest = group.stream().map(r -> r.epoch).filter(e -> e != null).max(Long::compare).orElse(null);
            if (highest != null && (epoch == null || epoch < highest)) {
                Links.refuse(sender, Links.STOLEN, "Receiver with epoch " + (epoch == null ? "(none)" : epoch)
                        + " refused: a receiver with the higher epoch " + highest + " reads partition " + entity.partition
                        + " of consumer group " + entity.consumerGroup + ".");
                return;
            }
            if (epoch != null) {
                for (PartitionReader other : group) {
                    if (other.epoch == null || other.epoch <= epoch) {
                        stolen.add(other);
                    }
                }
                group.removeAll(stolen);
            }
            group.add(reader);
        }
        for (PartitionReader other : stolen) {
            other.context.runOnContext(v -> Links.closeWith(other.sender, Links.STOLEN, "New receiver with epoch "
                    + epoch + " took partition " + entity.partition + " of consumer group " + entity.consumerGroup
                    + " (a receiver with a higher owner level was opened)."));
        }
        sender.setQoS(ProtonQoS.AT_LEAST_ONCE);
        sender.sendQueueDrainHandler(s -> reader.pump());
        sender.closeHandler(closed -> {
            remove(key, reader);
            sender.close();
        });
        sender.detachHandler(detached -> {
            remove(key, reader);
            sender.detach();
        });
        Links.accept(sender);
        reader.pump();
    }

    private void remove(String key, PartitionReader reader) {
        List<PartitionReader> group = readers.get(key);
        if (group != null) {
            synchronized (group) {
                group.remove(reader);
            }
        }
    }

    private void removeReadersOf(ProtonConnection connection) {
        for (List<PartitionReader> group : readers.values()) {
            synchronized (group) {
                group.removeIf(r -> r.sender.getSession().getConnection() == connection);
            }
        }
    }

    private static EventPositions position(org.apache.qpid.proton.amqp.transport.Source remote) {
        if (!(remote instanceof Source source) || source.getFilter() == null) {
            return EventPositions.LATEST;
        }
        Object filter = source.getFilter().get(SELECTOR_FILTER);
        if (filter == null) {
            return EventPositions.LATEST;
        }
        Object expression = filter instanceof DescribedType d ? d.getDescribed() : filter;
        if (!(expression instanceof String text)) {
            throw new IllegalArgumentException("The selector filter must be a string expression.");
        }
        return EventPositions.parse(text);
    }

    /** Whether a token's resource (e.g. {@code amqp://host/hub} or {@code host/hub/ConsumerGroups/..}) covers the path. */
    private static boolean covers(Cbs.Grant grant, String path) {
        String resource = grant.audience().toLowerCase(Locale.ROOT);
        int scheme = resource.indexOf("://");
        if (scheme >= 0) {
            resource = resource.substring(scheme + 3);
        }
        int slash = resource.indexOf('/');
        String scope = slash < 0 ? "" : resource.substring(slash + 1);
        while (scope.endsWith("/")) {
            scope = scope.substring(0, scope.length() - 1);
        }
        return scope.isEmpty() || path.equals(scope) || path.startsWith(scope + "/");
    }

    // ---- $management -------------------------------------------------------------------------------------

    private Message management(Message request) {
        Map<String, Object> props = Replies.applicationProperties(request);
        String operation = Replies.string(props.get("operation"));
        String type = Replies.string(props.get("type"));
        String name = Replies.string(props.get("name"));
        if (!"READ".equals(operation)) {
            return Replies.response(request, 400, "The $management node supports operation READ only, not '" + operation + "'.", null);
        }
        SasToken token = SasToken.parse(Replies.string(props.get("security_token")));
        try {
            if (token == null) {
                throw new Cbs.Refusal(401, "The request has no valid security_token (a SAS token of a policy granting Service Connect).");
            }
            SharedAccessPolicy policy = tokens.check(token);
            if (!policy.grants(Permission.SERVICE_CONNECT)) {
                throw new Cbs.Refusal(401, "Policy '" + policy.name() + "' lacks Service Connect: use iothubowner or service.");
            }
            if (name == null || !name.equalsIgnoreCase(eventHubName)) {
                return Replies.response(request, 404, notFound(name) + wrongHub(name), null);
            }
            if (!covers(new Cbs.Grant(token.resource(), policy, Instant.MAX), eventHubName.toLowerCase(Locale.ROOT))) {
                throw new Cbs.Refusal(401, "The token's resource '" + token.resource() + "' does not cover event hub " + eventHubName + ".");
            }
        } catch (Cbs.Refusal refusal) {
            return Replies.response(request, refusal.status(), refusal.getMessage(), null);
        }
        if ("com.microsoft:eventhub".equals(type)) {
            Map<String, Object> body = new HashMap<>();
            body.put("name", eventHubName);
            body.put("created_at", Date.from(log.createdAt()));
            String[] ids = new String[log.partitionCount()];
            for (int p = 0; p < ids.length; p++) {
                ids[p] = Integer.toString(p);
            }
            body.put("partition_ids", ids);
            return Replies.response(request, 200, "OK", body);
        }
        if ("com.microsoft:partition".equals(type)) {
            String partitionText = Replies.string(props.get("partition"));
            int partition;
            try {
                partition = Integer.parseInt(partitionText);
            } catch (NumberFormatException e) {
                partition = -1;
            }
            if (partition < 0 || partition >= log.partitionCount()) {
                return Replies.response(request, 404, notFound(eventHubName + "/Partitions/" + partitionText)
                        + " Partitions are 0 to " + (log.partitionCount() - 1) + ".", null);
            }
            TelemetryLog.PartitionInfo info = log.info(partition);
            Map<String, Object> body = new HashMap<>();
            body.put("name", eventHubName);
            body.put("partition", Integer.toString(partition));
            body.put("begin_sequence_number", info.beginSequenceNumber());
            body.put("last_enqueued_sequence_number", info.lastEnqueuedSequenceNumber());
            body.put("last_enqueued_offset", Long.toString(info.lastEnqueuedSequenceNumber()));
            body.put("last_enqueued_time_utc", Date.from(info.lastEnqueuedTime() == null ? Instant.EPOCH : info.lastEnqueuedTime()));
            body.put("is_partition_empty", info.empty());
            return Replies.response(request, 200, "OK", body);
        }
        return Replies.response(request, 400, "Unknown $management type '" + type
                + "': com.microsoft:eventhub and com.microsoft:partition can be read.", null);
    }
}
