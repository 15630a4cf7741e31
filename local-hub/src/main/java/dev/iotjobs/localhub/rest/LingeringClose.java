package dev.iotjobs.localhub.rest;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A "lingering close" for a connection the hub answers before it has read the whole request (a request line or
 * headers over the limit, bytes that are not HTTP): the way web servers close such connections (nginx's
 * {@code lingering_close}, Apache's lingering close), so that every client sees the answer.
 * <p>
 * Closing a TCP connection while the client's bytes are still arriving makes the kernel answer them with a
 * reset: the client then gets "Broken pipe" or "Connection reset" while still writing its request, and may never
 * read the answer the hub sent. Whether that happens depends on timing (how much of the request was in flight).
 * So instead of closing, the hub ends its side once the answer and TLS's close_notify are out (a TCP half-close)
 * and reads and discards what the client still sends until the client closes too, or at most {@link #LINGER}.
 * A client that keeps sending is cut off then; nothing it sends is buffered meanwhile.
 */
final class LingeringClose extends ChannelDuplexHandler {
    /** How long the hub reads and discards after answering (nginx's default lingering_timeout is 5 s too). */
    static final Duration LINGER = Duration.ofSeconds(5);
    private static final String NAME = "localhub-lingering-close";

    private boolean draining;
    private ScheduledFuture<?> deadline;

    /**
     * Makes the connection's next close a lingering one. Falls back to Vert.x's plain close when the connection
     * is not Vert.x's Netty-based implementation.
     */
    static void arm(HttpConnection connection) {
        if (connection instanceof ConnectionBase base) {
            Channel channel = base.channel();
            if (channel instanceof DuplexChannel && channel.pipeline().get(NAME) == null) {
                // First in the pipeline: the close reaches it after TLS has written close_notify, and the bytes
                // it discards never reach TLS or the HTTP decoder.
                channel.pipeline().addFirst(NAME, new LingeringClose());
            }
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (draining || !ctx.channel().isActive()) {
            ctx.close(promise);
            return;
        }
        draining = true;
        // The close completes when the channel really closes: the client closed, or the linger ran out.
        ctx.channel().closeFuture().addListener(f -> promise.trySuccess());
        deadline = ctx.executor().schedule(() -> {
            ctx.close();
        }, LINGER.toMillis(), TimeUnit.MILLISECONDS);
        ctx.channel().closeFuture().addListener(f -> deadline.cancel(false));
        ((DuplexChannel) ctx.channel()).shutdownOutput().addListener(f -> {
            if (!f.isSuccess()) {
                ctx.close();
            }
        });
        // Vert.x may have paused reading; the client's remaining bytes must be read to be discarded.
        ctx.channel().config().setAutoRead(true);
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (draining) {
            ReferenceCountUtil.release(msg);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!draining) {
            ctx.fireChannelReadComplete();
        }
    }
}
