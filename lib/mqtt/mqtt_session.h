/*
 * mqtt_session.h - an MQTT 3.1.1 client session that really delivers QoS 1.
 *
 * - CONNECT with clean session off, username/password, keepalive and a retained QoS 1 will
 *   (`status_topic` = "offline"); "online" (retained, QoS 1) after every CONNACK.
 * - A bounded queue of QoS 1 PUBLISH packets in static RAM (inside this struct, which the
 *   caller places in static storage). Messages stay queued until PUBACK, across reconnects,
 *   and are re-sent with DUP after a reconnect. When the queue is full the oldest message is
 *   dropped and counted.
 * - PINGREQ when the link has been quiet for the keepalive; no PINGRESP in time -> reconnect.
 * - Reconnect with exponential backoff and jitter, capped (60 s by default, 5 s while messages
 *   are waiting to go out). The backoff starts again from the minimum only once a connection
 *   has stayed healthy (a PUBACK came and it lasted one keepalive period), not at CONNACK: a
 *   broker that throws the node off right after each connect gets fewer and fewer attempts.
 *   When the network link comes back (WiFi reconnected) the next attempt is made at once.
 * - SUBSCRIBE QoS 1 after every CONNACK (the broker keeps them with clean session off, but a
 *   broker restart without persistence forgets them); incoming QoS 1 PUBLISH is acknowledged.
 * - A PUBLISH larger than MQTT_RX_SIZE is read past in streaming (never buffered), acknowledged
 *   if QoS 1, logged and counted in stats.oversize; the connection stays up. Whatever a broker
 *   holds for us (a retained or queued message of any size) cannot keep the node off the air.
 * - Fairness: PUBACKs we owe and our own messages take turns, and each poll does bounded work.
 *   Incoming messages beyond a rate (token bucket, 10/s with bursts of 20 by default) are
 *   acknowledged and dropped (counted in stats.rx_dropped, logged at most once a second): a
 *   flood on the control topic cannot take the link.
 * - Any other malformed or unexpected packet closes the connection.
 *
 * Nothing blocks except transport->open() (bounded by the transport). Drive it with
 * mqtt_session_poll(now) from the main loop.
 */
#ifndef MQTT_SESSION_H
#define MQTT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "mqtt_packet.h"
#include "transport.h"

/* Queue capacity (messages) and the largest encoded PUBLISH a slot holds. Override per build.
   The queue is the in-flight window: readings wait in the node's reading store (lib/store,
   ~24 bytes each) and are encoded into it only when there is room, so 4 slots (one reading in
   "both" mode, 4 x 384 B = 1.5 KB) are enough on the ESP8266; the native node may allow more. */
#ifndef MQTT_QUEUE_SLOTS
#define MQTT_QUEUE_SLOTS 4
#endif
#ifndef MQTT_SLOT_SIZE
#define MQTT_SLOT_SIZE 384
#endif
/* Largest incoming packet: control messages and alerts are a few dozen bytes. */
#ifndef MQTT_RX_SIZE
#define MQTT_RX_SIZE 512
#endif
#define MQTT_TX_SIZE           MQTT_SLOT_SIZE
#define MQTT_MAX_SUBSCRIPTIONS 4
#define MQTT_ACK_BACKLOG       8

#define MQTT_DEFAULT_KEEPALIVE_S            30
#define MQTT_DEFAULT_BACKOFF_MIN_MS         1000u
#define MQTT_DEFAULT_BACKOFF_MAX_MS         60000u
#define MQTT_DEFAULT_CONNECT_TIMEOUT_MS     15000u
/* Backoff cap while messages are waiting: the broker may well be back, and every second of
   waiting is readings piling up in a small queue. Jitter still spreads nodes over [cap/2, cap]. */
#define MQTT_DEFAULT_BACKOFF_PENDING_MAX_MS 5000u
/* Incoming messages: control commands and fall alerts are a few per minute at most. */
/* A sent message whose PUBACK has not come after this long: send a PINGREQ. A broker with Nagle
   on (Mosquitto's default) holds small packets such as PUBACKs until its previous segment is
   acknowledged at TCP level; the node's next write carries that acknowledgement. Waiting for the
   keepalive instead stalled the backlog for 30 s at a time (issue 10, outage soak). */
#define MQTT_ACK_PROBE_MS                   1000u
/* No PUBACK at all for keepalive + ping timeout while the broker answers pings: it lost the
   message; reconnect, and the resend (DUP) is what MQTT 3.1.1 allows. */
#define MQTT_DEFAULT_RX_RATE_PER_S          10u
#define MQTT_DEFAULT_RX_BURST               20u
/* Bounded work per poll: packets handled and reads made in one mqtt_session_poll(). */
#define MQTT_RX_PACKETS_PER_POLL            16
#define MQTT_RX_READS_PER_POLL              8

struct mqtt_session_config {
    const char *host;
    uint16_t port;
    const char *client_id;
    const char *username;     /* NULL: none */
    const char *password;     /* NULL: none */
    const char *status_topic; /* will "offline" / "online"; NULL: none */
    const char *subscriptions[MQTT_MAX_SUBSCRIPTIONS];
    uint8_t subscription_count;
    uint16_t keepalive_s;            /* 0: MQTT_DEFAULT_KEEPALIVE_S */
    uint32_t ping_timeout_ms;        /* 0: half the keepalive, at least 1 s */
    uint32_t connect_timeout_ms;     /* TCP/TLS up to CONNACK; 0: default */
    uint32_t backoff_min_ms;         /* 0: default */
    uint32_t backoff_max_ms;         /* 0: default (60 s) */
    uint32_t backoff_pending_max_ms; /* cap while messages wait; 0: default (5 s), never above max */
    uint32_t healthy_after_ms;       /* connected this long + a PUBACK: backoff resets; 0: keepalive */
    uint16_t rx_rate_per_s;          /* incoming messages per second; 0: default (10) */
    uint16_t rx_burst;               /* bucket size; 0: default (20) */
    uint16_t queue_limit;            /* 0 or > MQTT_QUEUE_SLOTS: MQTT_QUEUE_SLOTS */
};

struct mqtt_session_callbacks {
    void *ctx;
    void (*log)(void *ctx, const char *line);
    uint32_t (*random32)(void *ctx);
    int (*link_up)(void *ctx); /* NULL: always up */
    /* `retained`: the broker sent a retained message because we (re)subscribed, not a new one. */
    void (*on_message)(void *ctx, const char *topic, uint16_t topic_len, const uint8_t *payload, size_t payload_len,
                       int retained);
    void (*on_connection)(void *ctx, int connected); /* NULL: not needed */
    /* The PUBACK for a message queued by mqtt_session_publish came (its id: last_packet_id
       right after that call). NULL: not needed. */
    void (*on_acked)(void *ctx, uint16_t packet_id);
};

struct mqtt_session_stats {
    uint32_t enqueued;      /* messages accepted by mqtt_session_publish */
    uint32_t acked;         /* PUBACKs for them */
    uint32_t dropped;       /* oldest messages dropped because the queue was full */
    uint32_t retransmitted; /* sent again with DUP after a reconnect */
    uint32_t connects;      /* CONNACKs accepted */
    uint32_t received;      /* PUBLISH packets received */
    uint32_t oversize;      /* PUBLISH larger than MQTT_RX_SIZE: read past, acked if QoS 1, not delivered */
    uint32_t rx_dropped;    /* incoming PUBLISH over the rate limit: acked if QoS 1, not delivered */
};

enum mqtt_session_state {
    MQTT_STATE_WAITING = 0, /* disconnected, next attempt at next_attempt_at */
    MQTT_STATE_CONNECTING,  /* transport open, CONNECT sent or sending, waiting for CONNACK */
    MQTT_STATE_CONNECTED
};

struct mqtt_slot {
    uint16_t len; /* 0: free */
    uint16_t packet_id;
    uint8_t sent;  /* sent at least once: a resend carries DUP */
    uint8_t acked; /* PUBACK came; waiting to be reclaimed from the ring */
    uint8_t data[MQTT_SLOT_SIZE];
};

struct mqtt_session {
    mqtt_session_config cfg;
    mqtt_session_callbacks cb;
    transport *t;

    uint8_t state;
    uint32_t state_since;
    uint32_t next_attempt_at;
    uint32_t attempts;     /* failed attempts since the last healthy connection */
    uint8_t got_puback;    /* a PUBACK came on this connection (one sign of health) */
    uint8_t link_was_down; /* the network link was seen down while waiting */
    uint8_t closed_early;  /* connections in a row the broker closed before they were healthy */

    /* Ring of queued messages, oldest at head. */
    mqtt_slot slots[MQTT_QUEUE_SLOTS];
    uint16_t head;
    uint16_t count;
    uint16_t cursor; /* slots from head already sent on this connection */
    uint16_t next_id;
    uint16_t last_packet_id; /* the id mqtt_session_publish gave its message */

    uint8_t tx[MQTT_TX_SIZE];
    uint16_t tx_len, tx_off;
    uint8_t rx[MQTT_RX_SIZE];
    uint16_t rx_len;
    uint32_t rx_skip; /* bytes of an oversize PUBLISH still to read and throw away */

    uint16_t acks[MQTT_ACK_BACKLOG]; /* PUBACKs we owe the broker */
    uint8_t ack_count;
    uint8_t last_tx_ack; /* the last packet sent was a PUBACK: our own messages go next */

    uint16_t rx_tokens; /* incoming rate limit: token bucket */
    uint32_t rx_refill_at;
    uint32_t rx_drop_logged_at, rx_drop_logged;

    uint8_t need_subscribe, need_online;
    uint16_t subscribe_id, online_id;
    uint8_t ping_outstanding;
    uint32_t ping_sent_at, last_tx, last_rx;
    uint32_t ack_wait_since; /* the oldest PUBACK still awaited, or the last one that came, since */

    mqtt_session_stats stats;
};

/* Backoff before reconnect attempt number `attempt` (1 = first retry): base = min * 2^(attempt-1)
   capped at max, and the result is uniform in [base/2, base] ("equal jitter", so nodes that lost
   the broker together do not come back together). Always <= max_ms. */
uint32_t mqtt_backoff_ms(uint32_t attempt, uint32_t min_ms, uint32_t max_ms, uint32_t rnd);

/* Set up; connects on the first poll. `s` should live in static storage (it holds the queue). */
void mqtt_session_init(mqtt_session *s, const mqtt_session_config *cfg, const mqtt_session_callbacks *cb, transport *t,
                       uint32_t now_ms);
/* Do whatever is due: connect, send, receive, keepalive, timeouts. Never blocks (except open). */
void mqtt_session_poll(mqtt_session *s, uint32_t now_ms);
/* Queue a QoS 1 PUBLISH (sent as soon as connected). Returns MQTT_OK, or MQTT_ERR_ARG /
   MQTT_ERR_BUFFER when the message could never fit a slot (nothing is dropped then). */
int mqtt_session_publish(mqtt_session *s, const char *topic, const uint8_t *payload, size_t len, int retain);
int mqtt_session_connected(const mqtt_session *s);
/* Free queue slots: messages mqtt_session_publish takes now without dropping an older one. */
uint16_t mqtt_session_room(mqtt_session *s);
/* Messages waiting for PUBACK or not yet sent. */
uint16_t mqtt_session_pending(const mqtt_session *s);
/* Close the connection at once, without DISCONNECT (the broker then publishes the will). */
void mqtt_session_abort(mqtt_session *s, uint32_t now_ms);

#endif
