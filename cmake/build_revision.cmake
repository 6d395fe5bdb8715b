# Writes OUTPUT, the definition of build_revision (include/build_revision.h): the git revision
# SOURCE_DIR is at. Run at every build, not at configure time, so a commit since the last cmake still
# shows; the file is rewritten only when the revision changes, so an unchanged one rebuilds nothing.
execute_process(
  COMMAND git -C "${SOURCE_DIR}" describe --always --dirty --abbrev=12 --exclude=*
  OUTPUT_VARIABLE revision OUTPUT_STRIP_TRAILING_WHITESPACE
  RESULT_VARIABLE status ERROR_QUIET)
if(NOT status EQUAL 0 OR revision STREQUAL "")
  set(revision unknown)
endif()
set(text "/* Written by cmake/build_revision.cmake at build time. */\n#include \"build_revision.h\"\n\nconst char build_revision[] = \"${revision}\";\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUTPUT}" "${text}")
endif()
