/* CPUID (cpu/cpuid.c): the architectural leaves of the processor hvemu models. */
#ifndef HVEMU_CPU_CPUID_H
#define HVEMU_CPU_CPUID_H

#include <stdint.h>

struct cpu;

/* out[0..3] = EAX, EBX, ECX, EDX for (leaf, subleaf), after env->cpuid post-processing. */
void cpu_cpuid(struct cpu *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
/* The family/model/stepping signature (CPUID.1:EAX; also RDX after reset). */
uint32_t cpuid_signature(const struct cpu *c);

/* Feature bits that other files test (CPUID.1:EDX/ECX, 7.0:EBX, 80000001H:EDX). */
#define CPUID_1_EDX_APIC   (1u << 9)
#define CPUID_7_EBX_SMEP   (1u << 7)
#define CPUID_7_EBX_SMAP   (1u << 20)
#define CPUID_7_EBX_INVPCID (1u << 10)

#endif
