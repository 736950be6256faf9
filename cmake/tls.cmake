# lib/tls: the BearSSL transport (portable core; BearSSL from Debian's libbearssl-dev, the same
# <bearssl/bearssl.h> the ESP8266 Arduino core ships), its unit tests, and the credentials
# loader of the native node (lib/hal_posix/credentials_*, Linux only).
find_library(BEARSSL_LIB NAMES bearssl REQUIRED)
find_path(BEARSSL_INCLUDE NAMES bearssl/bearssl.h REQUIRED)

file(GLOB TLS_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/lib/tls/*.cpp)
add_library(node_tls STATIC ${TLS_SOURCES})
target_include_directories(node_tls PUBLIC ${CMAKE_SOURCE_DIR}/lib/tls ${BEARSSL_INCLUDE})
target_compile_options(node_tls PRIVATE ${NODE_CXX_FLAGS})
target_link_libraries(node_tls PUBLIC node_port ${BEARSSL_LIB})

# PEM files -> BearSSL structures (static buffers), for the native node and the tests.
file(GLOB TLS_CREDENTIALS_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/lib/hal_posix/credentials_*.cpp)
if(TLS_CREDENTIALS_SOURCES)
  add_library(tls_credentials STATIC ${TLS_CREDENTIALS_SOURCES})
  target_include_directories(tls_credentials PUBLIC ${CMAKE_SOURCE_DIR}/lib/hal_posix)
  target_compile_options(tls_credentials PRIVATE ${NODE_CXX_FLAGS})
  target_link_libraries(tls_credentials PUBLIC node_tls)
endif()

# Unit tests (test/unit/check.h), one executable each. Like the core's, they link a copy of
# lib/tls and the credentials loader built with AddressSanitizer and UBSan (NODE_SANITIZE,
# cmake/core.cmake): the DER walker and the loaders read bytes an attacker chose. BearSSL itself
# is Debian's uninstrumented library; tls_x509_overrun_test guards the contexts it writes to.
add_library(node_tls_checked STATIC ${TLS_SOURCES} ${TLS_CREDENTIALS_SOURCES})
target_include_directories(node_tls_checked PUBLIC ${CMAKE_SOURCE_DIR}/lib/tls
  ${CMAKE_SOURCE_DIR}/lib/hal_posix ${BEARSSL_INCLUDE})
target_compile_options(node_tls_checked PRIVATE ${NODE_CXX_FLAGS} ${NODE_SANITIZE})
target_link_libraries(node_tls_checked PUBLIC node_port_checked ${BEARSSL_LIB})
file(GLOB TLS_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/test/unit/tls_*.cpp)
foreach(src ${TLS_UNIT_TESTS})
  get_filename_component(t ${src} NAME_WE)
  add_executable(${t} ${src})
  target_link_libraries(${t} node_tls_checked)
  target_compile_options(${t} PRIVATE ${NODE_CXX_FLAGS} ${NODE_SANITIZE})
  target_link_options(${t} PRIVATE ${NODE_SANITIZE})
  add_test(NAME ${t} COMMAND ${t})
endforeach()

# The handshake benchmark (not a test: scripts/bench.sh runs it under callgrind).
if(EXISTS ${CMAKE_SOURCE_DIR}/bench/tls_bench.cpp AND TARGET tls_credentials)
  add_executable(tls_bench ${CMAKE_SOURCE_DIR}/bench/tls_bench.cpp)
  target_link_libraries(tls_bench tls_credentials)
  target_compile_options(tls_bench PRIVATE ${NODE_CXX_FLAGS})
endif()
