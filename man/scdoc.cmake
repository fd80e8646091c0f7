# Renders one man page: cmake -DSCDOC=scdoc -DINPUT=x.1.scd -DOUTPUT=x.1 -P scdoc.cmake
# Leaves no partial OUTPUT behind when scdoc fails, so a rebuild retries it.
execute_process(
  COMMAND ${SCDOC}
  INPUT_FILE ${INPUT}
  OUTPUT_FILE ${OUTPUT}.tmp
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  file(REMOVE ${OUTPUT}.tmp)
  message(FATAL_ERROR "scdoc failed on ${INPUT}: ${status}")
endif()
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
