# pipeproc_avx2_hash(TARGET DIR): builds DIR/checksum_avx2.cpp into TARGET with -mavx2 and
# lets DIR/record.cpp call it (it checks the CPU first), on x86-64; elsewhere record.cpp
# hashes with portable XXH3 alone. Used by libpplog and by the fuzz build of its sources.
function(pipeproc_avx2_hash target dir)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
    target_sources(${target} PRIVATE ${dir}/checksum_avx2.cpp)
    set_source_files_properties(${dir}/checksum_avx2.cpp TARGET_DIRECTORY ${target} PROPERTIES COMPILE_OPTIONS -mavx2)
    set_source_files_properties(${dir}/record.cpp TARGET_DIRECTORY ${target} PROPERTIES COMPILE_DEFINITIONS PIPEPROC_AVX2_HASH)
  endif()
endfunction()
