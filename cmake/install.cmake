# `cmake --install` (DESTDIR works) and the Debian package: the harness in bin/, the programs it
# starts in libexec/tcpharness/ (src/companion.c finds them there), the catalogue in
# share/tcpharness/cases/, the docs, two man pages and bash completion.

set(libexec_dir ${CMAKE_INSTALL_LIBEXECDIR}/tcpharness)
install(TARGETS tcpharness RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(agent tcpharness-agent tcpharness-agent-static tcpharness-agent-lwip)
  if(TARGET ${agent})
    install(TARGETS ${agent} RUNTIME DESTINATION ${libexec_dir})
  endif()
endforeach()
install(PROGRAMS scripts/gvisor-run-agent.sh scripts/vm-image.sh DESTINATION ${libexec_dir})
install(PROGRAMS scripts/vm/init DESTINATION ${libexec_dir}/vm)
install(DIRECTORY cases/ DESTINATION ${CMAKE_INSTALL_DATADIR}/tcpharness/cases)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES completion/tcpharness DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

# Man pages, made at build time so they follow the code and README.md: tcpharness(1) from --help plus
# man/tcpharness.1.in (environment, files, examples), tcpharness-cases(5) from README.md's "Case files".
set(man_dir ${CMAKE_BINARY_DIR}/man)
configure_file(man/tcpharness.1.in ${man_dir}/tcpharness.1.tail @ONLY)
add_custom_command(OUTPUT ${man_dir}/tcpharness.1
  COMMAND sh -c [[set -e; "$1" --help >"$4.help"; awk -v version="$2" -f "$3/roff.awk" -f "$3/help-to-man.awk" "$4.help" >"$4.tmp"; cat "$4.tail" >>"$4.tmp"; rm "$4.help"; mv "$4.tmp" "$4"]]
          sh $<TARGET_FILE:tcpharness> ${PROJECT_VERSION} ${PROJECT_SOURCE_DIR}/man ${man_dir}/tcpharness.1
  DEPENDS tcpharness man/roff.awk man/help-to-man.awk ${man_dir}/tcpharness.1.tail VERBATIM)
add_custom_command(OUTPUT ${man_dir}/tcpharness-cases.5
  COMMAND sh -c [[set -e; awk -v version="$1" -f "$2/roff.awk" -f "$2/readme-to-man.awk" "$3" >"$4.tmp"; mv "$4.tmp" "$4"]]
          sh ${PROJECT_VERSION} ${PROJECT_SOURCE_DIR}/man ${PROJECT_SOURCE_DIR}/README.md ${man_dir}/tcpharness-cases.5
  DEPENDS man/roff.awk man/readme-to-man.awk README.md VERBATIM)
add_custom_target(man_pages ALL DEPENDS ${man_dir}/tcpharness.1 ${man_dir}/tcpharness-cases.5)
install(FILES ${man_dir}/tcpharness.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${man_dir}/tcpharness-cases.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)

# `cpack -G DEB` in the build directory: tcpharness_VERSION_ARCH.deb. Depends are what the harness
# links (dpkg-shlibdeps' answer for bin/tcpharness on Debian 12); the other targets' tools and lwIP's
# library are Suggests, as is tshark for reading the pcaps. Package from a plain build: a sanitizer
# build's binaries need the compiler's runtime.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tcpharness)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "raw-socket packet-crafting test harness for TCP stacks")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "Injects hand-built TCP segments (libnet) at a real kernel, gVisor, lwIP, a QEMU VM or a lab host,
in throwaway network namespaces, captures the replies (libpcap) and proves case by case whether the
stack answers RST, drops or accepts. Ships the case catalogue in /usr/share/tcpharness/cases.")
set(CPACK_PACKAGE_CONTACT "tcpharness developers <tcpharness@example.org>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libc6 (>= 2.34), libjansson4 (>= 2.14), libmnl0 (>= 1.0.4-1~), libnet1 (>= 1.1.2.1), libpcap0.8 (>= 1.5.1)")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
  "runsc, iproute2, ethtool, qemu-system-x86, busybox-static, cpio, lz4, tshark")
include(CPack)
