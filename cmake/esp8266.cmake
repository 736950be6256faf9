# lib/hal_esp8266 on the host: only the TLS stack-thunk wrapper builds without the Arduino core
# (the rest needs the core: docs/esp8266-host-emulation.md). Its unit test compiles it the way the
# core's host emulation does (CORE_MOCK=1) against a stand-in StackThunk.h that counts references.
if(TARGET node_tls)
  add_executable(esp8266_tls_stack_test
    ${CMAKE_SOURCE_DIR}/test/unit/esp8266_tls_stack_test.cpp
    ${CMAKE_SOURCE_DIR}/lib/hal_esp8266/tls_stack_thunk.cpp)
  target_include_directories(esp8266_tls_stack_test PRIVATE
    ${CMAKE_SOURCE_DIR}/lib/hal_esp8266 ${CMAKE_SOURCE_DIR}/test/unit/esp8266_fake_core)
  target_compile_definitions(esp8266_tls_stack_test PRIVATE CORE_MOCK=1)
  target_compile_options(esp8266_tls_stack_test PRIVATE ${NODE_CXX_FLAGS})
  target_link_libraries(esp8266_tls_stack_test node_tls)
  add_test(NAME esp8266_tls_stack_test COMMAND esp8266_tls_stack_test)
endif()
