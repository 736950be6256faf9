# lib/port: the contracts every part codes against (hal.h, transport.h, clock.h, flash_io.h) and
# the text helpers they share (text_buf, log_line); lib/mqtt, lib/tls and lib/node build on it.
file(GLOB NODE_PORT_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/lib/port/*.cpp)
add_library(node_port STATIC ${NODE_PORT_SOURCES})
target_include_directories(node_port PUBLIC ${CMAKE_SOURCE_DIR}/lib/port)
target_compile_options(node_port PRIVATE ${NODE_CXX_FLAGS})

# The portable core (lib/mqtt, lib/sensors, lib/node, lib/store) as one static library, and its
# unit tests. The same sources are cross-compiled for the ESP8266 by scripts/xtensa-build.sh.
file(GLOB NODE_CORE_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/lib/mqtt/*.cpp
  ${CMAKE_SOURCE_DIR}/lib/sensors/*.cpp
  ${CMAKE_SOURCE_DIR}/lib/node/*.cpp
  ${CMAKE_SOURCE_DIR}/lib/store/*.cpp)
add_library(node_core STATIC ${NODE_CORE_SOURCES})
target_include_directories(node_core PUBLIC
  ${CMAKE_SOURCE_DIR}/lib/mqtt ${CMAKE_SOURCE_DIR}/lib/sensors ${CMAKE_SOURCE_DIR}/lib/node
  ${CMAKE_SOURCE_DIR}/lib/store)
target_compile_options(node_core PRIVATE ${NODE_CXX_FLAGS})
target_link_libraries(node_core PUBLIC node_port)
# The native node may queue more than the chip (its RAM is not the limit); --queue picks the
# size at run time up to this, and defaults to the chip's 16.
target_compile_definitions(node_core PUBLIC MQTT_QUEUE_SLOTS=64)

# Unit tests: one executable per part, no framework (test/unit/check.h). They link a copy of the
# core built with AddressSanitizer and UBSan, so a read or write out of bounds fails the test.
set(NODE_SANITIZE -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
add_library(node_port_checked STATIC ${NODE_PORT_SOURCES})
target_include_directories(node_port_checked PUBLIC ${CMAKE_SOURCE_DIR}/lib/port)
target_compile_options(node_port_checked PRIVATE ${NODE_CXX_FLAGS} ${NODE_SANITIZE})
add_library(node_core_checked STATIC ${NODE_CORE_SOURCES})
target_include_directories(node_core_checked PUBLIC
  ${CMAKE_SOURCE_DIR}/lib/mqtt ${CMAKE_SOURCE_DIR}/lib/sensors ${CMAKE_SOURCE_DIR}/lib/node
  ${CMAKE_SOURCE_DIR}/lib/store)
target_compile_options(node_core_checked PRIVATE ${NODE_CXX_FLAGS} ${NODE_SANITIZE})
target_link_libraries(node_core_checked PUBLIC node_port_checked)
target_compile_definitions(node_core_checked PUBLIC MQTT_QUEUE_SLOTS=16)
foreach(t test_mqtt_packet test_mqtt_session test_sensors test_node_app test_flash_ring)
  add_executable(${t} ${CMAKE_SOURCE_DIR}/test/unit/${t}.cpp)
  target_link_libraries(${t} node_core_checked)
  target_compile_options(${t} PRIVATE ${NODE_CXX_FLAGS} ${NODE_SANITIZE})
  target_link_options(${t} PRIVATE ${NODE_SANITIZE})
  add_test(NAME ${t} COMMAND ${t})
endforeach()
