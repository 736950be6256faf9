/*
 * config_check.h - build-time checks of include/config.h, included right after it.
 *
 * The example's WiFi name is a placeholder: a node flashed with it never joins a network and
 * only says NO_SSID_AVAIL on its serial port, after the upload. So it is refused here, when the
 * firmware is compiled. host-tools/firmware defines NODE_ALLOW_PLACEHOLDER_WIFI in the config.h
 * it makes from the example for its build check (that image is never flashed).
 */
#ifndef NODE_CONFIG_CHECK_H
#define NODE_CONFIG_CHECK_H

#ifndef NODE_ALLOW_PLACEHOLDER_WIFI
/* The preprocessor cannot compare strings; a constexpr function can, at compile time. */
static constexpr bool config_text_equal(const char *a, const char *b) {
    return *a == *b && (*a == '\0' || config_text_equal(a + 1, b + 1));
}
static_assert(!config_text_equal(NODE_WIFI_SSID, "your-ssid"),
              "NODE_WIFI_SSID is still the placeholder \"your-ssid\": set your WiFi name in include/config.h");
#endif

#endif /* NODE_CONFIG_CHECK_H */
