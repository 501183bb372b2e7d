# Compiles SOURCE, which must fail, and checks that the first error is the ctnn: message written in
# the snippet's "// expect: <text>" line, and that every "// expect-also: <text>" appears in the
# compiler's output (used for the sizes that the comparison note shows).
file(STRINGS ${SOURCE} expect_lines REGEX "^// expect: ")
file(STRINGS ${SOURCE} also_lines REGEX "^// expect-also: ")
list(GET expect_lines 0 expected)
string(REGEX REPLACE "^// expect: " "" expected "${expected}")
execute_process(
  COMMAND ${CXX} -std=c++20 -fsyntax-only -I${INCLUDE} -I${XSIMD_INCLUDE} ${SOURCE}
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
string(REGEX MATCH "error: [^\n]*" first_error "${err}")
string(FIND "${first_error}" "${expected}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "first error of ${SOURCE} is\n  ${first_error}\nexpected it to contain\n  ${expected}\nfull output:\n${err}")
endif()
foreach(line IN LISTS also_lines)
  string(REGEX REPLACE "^// expect-also: " "" also "${line}")
  string(FIND "${err}" "${also}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "output of ${SOURCE} lacks\n  ${also}\nfull output:\n${err}")
  endif()
endforeach()
message(STATUS "${first_error}")
