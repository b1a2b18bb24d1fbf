# Building freestanding guest kernels (multiboot v1, ELF32 wrapper around 64-bit
# code) with the host gcc and binutils, independent of the emulator libraries.
#
#   hvemu_guest_kernel(<target> SOURCES a.c [b.S ...])
#     -> ${CMAKE_CURRENT_BINARY_DIR}/<target>.elf, built by target <target>.
# The runtime (rt.c, entry.S) is compiled once per directory.
include_guard(DIRECTORY)

set(HVEMU_GUEST_RT_DIR ${CMAKE_CURRENT_LIST_DIR})
find_program(HVEMU_GUEST_LD NAMES ld ld.bfd REQUIRED)
find_program(HVEMU_GUEST_OBJCOPY NAMES objcopy REQUIRED)
set(HVEMU_GUEST_CC ${CMAKE_C_COMPILER})
set(HVEMU_GUEST_CFLAGS
    -m64 -std=gnu17 -O2 -g -Wall -Wextra -Wno-unused-parameter -Wno-clobbered -Wa,--noexecstack
    -ffreestanding -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only
    -fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none
    -fno-strict-aliasing -nostdlib -I${HVEMU_GUEST_RT_DIR})

function(_hvemu_guest_compile src obj)
  add_custom_command(OUTPUT ${obj}
    COMMAND ${HVEMU_GUEST_CC} ${HVEMU_GUEST_CFLAGS} -c ${src} -o ${obj}
    DEPENDS ${src} ${HVEMU_GUEST_RT_DIR}/rt.h ${HVEMU_GUEST_RT_DIR}/smp.h
    COMMENT "Guest CC ${src}" VERBATIM)
endfunction()

function(_hvemu_guest_runtime_objs outvar)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/guest-rt)
  set(objs ${dir}/entry.o ${dir}/rt.o ${dir}/smp.o ${dir}/smp_tramp.o)
  get_property(done DIRECTORY PROPERTY HVEMU_GUEST_RT_DONE)
  if(NOT done)
    file(MAKE_DIRECTORY ${dir})
    _hvemu_guest_compile(${HVEMU_GUEST_RT_DIR}/entry.S ${dir}/entry.o)
    _hvemu_guest_compile(${HVEMU_GUEST_RT_DIR}/rt.c ${dir}/rt.o)
    _hvemu_guest_compile(${HVEMU_GUEST_RT_DIR}/smp.c ${dir}/smp.o)
    _hvemu_guest_compile(${HVEMU_GUEST_RT_DIR}/smp_tramp.S ${dir}/smp_tramp.o)
    string(MD5 h ${CMAKE_CURRENT_BINARY_DIR})
    string(SUBSTRING ${h} 0 8 h)
    add_custom_target(guest_rt_${h} DEPENDS ${objs})
    set_property(DIRECTORY PROPERTY HVEMU_GUEST_RT_DONE guest_rt_${h})
  endif()
  set(${outvar} ${objs} PARENT_SCOPE)
endfunction()

function(hvemu_guest_kernel name)
  cmake_parse_arguments(G "" "" "SOURCES" ${ARGN})
  _hvemu_guest_runtime_objs(rt_objs)
  get_property(rt_target DIRECTORY PROPERTY HVEMU_GUEST_RT_DONE)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/${name}.d)
  file(MAKE_DIRECTORY ${dir})
  set(objs)
  foreach(src ${G_SOURCES})
    get_filename_component(abs ${src} ABSOLUTE)
    get_filename_component(base ${src} NAME)
    _hvemu_guest_compile(${abs} ${dir}/${base}.o)
    list(APPEND objs ${dir}/${base}.o)
  endforeach()
  set(elf64 ${dir}/${name}.elf64)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${name}.elf)
  add_custom_command(OUTPUT ${out}
    COMMAND ${HVEMU_GUEST_LD} -m elf_x86_64 -nostdlib -static -z max-page-size=0x1000
            -T ${HVEMU_GUEST_RT_DIR}/guest.ld --no-warn-rwx-segments -z noexecstack -o ${elf64} ${rt_objs} ${objs}
    COMMAND ${HVEMU_GUEST_OBJCOPY} -O elf32-i386 ${elf64} ${out}
    DEPENDS ${rt_objs} ${objs} ${HVEMU_GUEST_RT_DIR}/guest.ld
    COMMENT "Guest kernel ${name}.elf" VERBATIM)
  add_custom_target(${name} ALL DEPENDS ${out})
  add_dependencies(${name} ${rt_target})
endfunction()
