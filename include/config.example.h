/*
 * config.example.h - settings of one ESP8266 sensor node.
 *
 * Copy to include/config.h (ignored by git: it holds your WiFi password) and edit:
 *     cp include/config.example.h include/config.h
 * The MQTT username/password, the device id and all TLS material come from include/certs.h,
 * which `npx ts-node host-tools/gen-certs.ts` writes for one device; this file holds the rest.
 *
 * The native Linux node takes the same settings from its command line or environment
 * (`build/native/mqtt_node --help`), not from this file.
 *
 * Every value is a #define wrapped in #ifndef, so a PlatformIO env or a -D flag can override it
 * (platformio.ini sets NODE_USE_TLS and NODE_MQTT_PORT per env).
 */
#ifndef NODE_CONFIG_H
#define NODE_CONFIG_H

/* ---- WiFi ------------------------------------------------------------------------------ */
#ifndef NODE_WIFI_SSID
#define NODE_WIFI_SSID "your-ssid"
#endif
#ifndef NODE_WIFI_PASSWORD
#define NODE_WIFI_PASSWORD "your-wifi-password"
#endif

/* ---- Broker ---------------------------------------------------------------------------- */
/* Host name or IP of the Mosquitto broker. With TLS in CA mode this must be one of the names
   or IPs in the broker certificate's subjectAltName (gen-certs --host, which takes names and IPs), or the
   connection is refused with BAD_SERVER_NAME. The node does not speak mDNS: "*.local" names
   do not resolve, use the Pi's IP (gen-certs --host 192.168.1.10 puts it in the SANs) or a DNS name. */
#ifndef NODE_MQTT_HOST
#define NODE_MQTT_HOST "192.168.1.10"
#endif

/* 1 = MQTT over TLS (BearSSL), 0 = plain MQTT (only during the migration to TLS). */
#ifndef NODE_USE_TLS
#define NODE_USE_TLS 1
#endif

#ifndef NODE_MQTT_PORT
#if NODE_USE_TLS
#define NODE_MQTT_PORT 8883
#else
#define NODE_MQTT_PORT 1883
#endif
#endif

/* MQTT keepalive in seconds; a missing PINGRESP after this long triggers a reconnect. */
#ifndef NODE_MQTT_KEEPALIVE_S
#define NODE_MQTT_KEEPALIVE_S 30
#endif

/* ---- Identity -------------------------------------------------------------------------- */
/* The device id is the certificate CN and MQTT username that gen-certs made for this node
   (CERTS_DEVICE_ID in include/certs.h); topics are sensors/<kind>/<id>. Override only if you
   know the broker ACL allows it. */
#ifndef NODE_DEVICE_ID
#define NODE_DEVICE_ID CERTS_DEVICE_ID
#endif
/* Free text, sent in the combined payload ("location"). */
#ifndef NODE_LOCATION
#define NODE_LOCATION "room-101"
#endif

/* ---- Readings -------------------------------------------------------------------------- */
/* One reading every NODE_READ_INTERVAL_MS (a PIR rising edge publishes at once). The DHT22 is
   never read more often than every 2 s whatever this says. */
#ifndef NODE_READ_INTERVAL_MS
#define NODE_READ_INTERVAL_MS 2000
#endif

/* Which topics a reading goes to: NODE_PUBLISH_COMBINED (sensors/combined/<id>),
   NODE_PUBLISH_PER_SENSOR (sensors/pir|ultrasonic|dht22/<id>) or NODE_PUBLISH_BOTH (default,
   what the existing backend expects). The names are lib/node/node_app.h's enum. */
#ifndef NODE_PUBLISH_MODE
#define NODE_PUBLISH_MODE NODE_PUBLISH_BOTH
#endif

/* ---- Sensors ----------------------------------------------------------------------------- */
/* 1 = the node has it (src/esp8266/main.cpp's sensor table; docs/architecture.md, "A new
   sensor"). A sensor set to 0 is not linked and its pins are left alone. Their values share the
   56 bits of a reading's record: a BME280 with a DHT22 and an HC-SR04 does not fit (the build
   says so); the BME280 measures what the DHT22 does, so set NODE_SENSOR_DHT22 0 with it. */
#ifndef NODE_SENSOR_PIR
#define NODE_SENSOR_PIR 1 /* HC-SR501: sensors/pir/<id> */
#endif
#ifndef NODE_SENSOR_HCSR04
#define NODE_SENSOR_HCSR04 1 /* HC-SR04: sensors/ultrasonic/<id> */
#endif
#ifndef NODE_SENSOR_DHT22
#define NODE_SENSOR_DHT22 1 /* DHT22: sensors/dht22/<id> */
#endif
#ifndef NODE_SENSOR_BME280
#define NODE_SENSOR_BME280 0 /* BME280 over I2C: sensors/bme280/<id>, adds pressure_hpa */
#endif

/* ---- Pins (NodeMCU v2 labels in brackets) ---------------------------------------------- */
#ifndef NODE_PIN_PIR
#define NODE_PIN_PIR 14 /* D5: PIR OUT */
#endif
#ifndef NODE_PIN_HCSR04_TRIG
#define NODE_PIN_HCSR04_TRIG 12 /* D6: HC-SR04 TRIG */
#endif
#ifndef NODE_PIN_HCSR04_ECHO
#define NODE_PIN_HCSR04_ECHO 13 /* D7: HC-SR04 ECHO (5 V signal: use a divider to 3.3 V) */
#endif
#ifndef NODE_PIN_DHT22
#define NODE_PIN_DHT22 4 /* D2: DHT22 DATA (10 k pull-up to 3.3 V) */
#endif
/* BME280 (I2C, 3.3 V): SDA on D2 (the DHT22's pin, free when the BME280 replaces it), SCL on
   D3 (GPIO0: the bus pull-up keeps it high at boot, as the boot mode needs). Address 0x76 with
   SDO to GND (most breakout boards), 0x77 with SDO to 3.3 V. */
#ifndef NODE_PIN_BME280_SDA
#define NODE_PIN_BME280_SDA 4 /* D2 */
#endif
#ifndef NODE_PIN_BME280_SCL
#define NODE_PIN_BME280_SCL 0 /* D3 */
#endif
#ifndef NODE_BME280_ADDRESS
#define NODE_BME280_ADDRESS 0x76
#endif
#ifndef NODE_PIN_LED
#define NODE_PIN_LED 2 /* D4: on-board LED, active low */
#endif
#ifndef NODE_PIN_BUZZER
#define NODE_PIN_BUZZER 5 /* D1: active buzzer module (sounds while the pin is high) */
#endif

/* ---- Time (TLS checks certificate dates against it) ------------------------------------ */
#ifndef NODE_NTP_SERVER1
#define NODE_NTP_SERVER1 "pool.ntp.org"
#endif
#ifndef NODE_NTP_SERVER2
#define NODE_NTP_SERVER2 "time.nist.gov"
#endif
/* POSIX TZ string; only affects local-time printing, payload timestamps are UTC epoch ms. */
#ifndef NODE_TZ
#define NODE_TZ "UTC0"
#endif

/* ---- TLS (used when NODE_USE_TLS is 1) -------------------------------------------------- */
/* How the broker is authenticated:
   NODE_TLS_MODE_CA          full chain check against the CA in certs.h, name/IP check, dates
   NODE_TLS_MODE_PIN         the broker's public key (SHA-256 of its SubjectPublicKeyInfo);
                             survives certificate renewal as long as the key stays
   NODE_TLS_MODE_FINGERPRINT SHA-256 of the broker certificate; update at every renewal
   Only the material of the chosen mode is copied to RAM and linked. */
#define NODE_TLS_MODE_CA          1
#define NODE_TLS_MODE_PIN         2
#define NODE_TLS_MODE_FINGERPRINT 3
#ifndef NODE_TLS_MODE
#define NODE_TLS_MODE NODE_TLS_MODE_CA
#endif
/* 1 = present the device certificate (Mosquitto `require_certificate true`). Default: what
   gen-certs was told (CERTS_MTLS, --mtls). Costs RAM for the certificate and key (about 0.7 KB with
   an EC P-256 device key, gen-certs' default for new devices with --mtls; 1.5 KB with RSA-2048).
   certs.h's key type (CERTS_CLIENT_KEY_EC) picks the signer: nothing to set here. */
#ifndef NODE_TLS_MUTUAL
#define NODE_TLS_MUTUAL CERTS_MTLS
#endif
/* Key exchanges the node carries (each costs flash):
   NODE_TLS_PROFILE_DEFAULT  ECDHE_RSA over X25519, ChaCha20-Poly1305, RSA signatures: a gen-certs broker (RSA key,
                             RSA CA), and the curve Mosquitto picks when offered
   NODE_TLS_PROFILE_COMPAT   adds ECDHE_ECDSA, P-256, ECDSA and AES-128-GCM: a broker or CA with an EC key, or a
                             broker without X25519 (the node logs "use the compat TLS profile") */
#define NODE_TLS_PROFILE_DEFAULT 1
#define NODE_TLS_PROFILE_COMPAT  2
#ifndef NODE_TLS_PROFILE
#define NODE_TLS_PROFILE NODE_TLS_PROFILE_DEFAULT
#endif
/* Largest TLS record the node accepts; 1024 (default) or 512 to save RAM. The node asks the
   broker for this with the max_fragment_length extension. */
#ifndef NODE_TLS_MAX_FRAGMENT
#define NODE_TLS_MAX_FRAGMENT 1024
#endif
/* 1 = also keep the TLS session in RTC memory, so a wake from deep sleep (or a reset) resumes it
   instead of a full handshake. Reconnects within one run always resume. */
#ifndef NODE_TLS_SESSION_IN_RTC
#define NODE_TLS_SESSION_IN_RTC 0
#endif

#endif
