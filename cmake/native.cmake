# The native Linux node (build/native/mqtt_node): the portable core on the POSIX HAL
# (lib/hal_posix: TCP transport, clock, scenario-driven simulated sensors, boot counter).
add_library(hal_posix STATIC
  ${CMAKE_SOURCE_DIR}/lib/hal_posix/posix_hal.cpp
  ${CMAKE_SOURCE_DIR}/lib/hal_posix/posix_tcp.cpp
  ${CMAKE_SOURCE_DIR}/lib/hal_posix/scenario.cpp
  ${CMAKE_SOURCE_DIR}/lib/hal_posix/sim_sensors.cpp
  ${CMAKE_SOURCE_DIR}/lib/hal_posix/flash_file.cpp)
target_include_directories(hal_posix PUBLIC ${CMAKE_SOURCE_DIR}/lib/hal_posix)
target_link_libraries(hal_posix PUBLIC node_core m)
target_compile_options(hal_posix PRIVATE ${NODE_CXX_FLAGS})

add_executable(mqtt_node
  ${CMAKE_SOURCE_DIR}/src/native/main.cpp
  ${CMAKE_SOURCE_DIR}/src/native/native_transport.cpp)
target_include_directories(mqtt_node PRIVATE ${CMAKE_SOURCE_DIR}/src/native)
target_link_libraries(mqtt_node hal_posix node_core)
# The TLS part (cmake/tls.cmake, included before this file) provides these when it is built.
if(TARGET tls_credentials)
  target_link_libraries(mqtt_node tls_credentials)
endif()
if(TARGET node_tls)
  target_link_libraries(mqtt_node node_tls)
endif()
target_compile_options(mqtt_node PRIVATE ${NODE_CXX_FLAGS})
# Tests and tools expect the binary at build/native/mqtt_node.
set_target_properties(mqtt_node PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})

# The simulator's scenario parser and sensor synthesis, checked against the core's decoders.
add_executable(test_scenario ${CMAKE_SOURCE_DIR}/test/unit/test_scenario.cpp)
target_link_libraries(test_scenario hal_posix node_core)
target_compile_options(test_scenario PRIVATE ${NODE_CXX_FLAGS})
add_test(NAME test_scenario COMMAND test_scenario)
