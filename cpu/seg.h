/* Segmentation helpers shared by cpu/seg.c, cpu/ops_desc.c, cpu/ops_system.c and
 * cpu/exception.c: descriptor decoding, descriptor-table reads and segment-register
 * loads with the checks of SDM Vol. 3A ch. 5 (protection) and Vol. 2 (MOV Sreg, POP
 * Sreg, far JMP/CALL/RET, IRET).
 *
 * A descriptor is handled as its raw 8 bytes (uint64_t, little-endian as in memory).
 * struct segment.attr keeps descriptor bits 40..47 in 0..7 and 52..55 in 8..11.
 * A segment register holding a null selector in protected mode has attr = 0
 * ("unusable"); seg_linear() then faults on use outside 64-bit mode.
 */
#ifndef HVEMU_CPU_SEG_H
#define HVEMU_CPU_SEG_H

#include <stdbool.h>
#include <stdint.h>
#include "cpu/cpu.h"

#define SEL_RPL(s)   ((unsigned)(s) & 3)
#define SEL_TI       0x4u
#define SEL_NULL(s)  (((s) & 0xfffc) == 0)
#define SEL_ERR(s)   ((uint32_t)((s) & 0xfffc))   /* error code naming a selector (SDM Vol. 3A 6.13) */

/* System-descriptor types (S = 0), SDM Vol. 3A Table 3-2. */
#define DT_TSS16_AVAIL 0x1
#define DT_LDT         0x2
#define DT_TSS16_BUSY  0x3
#define DT_CALLGATE16  0x4
#define DT_TASKGATE    0x5
#define DT_INTGATE16   0x6
#define DT_TRAPGATE16  0x7
#define DT_TSS_AVAIL   0x9     /* 32-bit TSS, or 64-bit TSS in IA-32e mode */
#define DT_TSS_BUSY    0xb
#define DT_CALLGATE    0xc
#define DT_INTGATE     0xe
#define DT_TRAPGATE    0xf

/* Code/data type bits (S = 1), SDM Vol. 3A Table 3-1. */
#define ST_ACCESSED   0x1
#define ST_WRITE      0x2      /* data: writable */
#define ST_READ       0x2      /* code: readable */
#define ST_EXPDOWN    0x4      /* data: expand-down */
#define ST_CONFORM    0x4      /* code: conforming */
#define ST_CODE       0x8

static inline uint64_t desc_base(uint64_t d)
{
    return ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
}
static inline uint32_t desc_limit(uint64_t d)
{
    uint32_t l = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
    return (d & (1ull << 55)) ? (l << 12) | 0xfff : l;
}
static inline uint16_t desc_attr(uint64_t d)
{
    return (uint16_t)(((d >> 40) & 0xff) | ((d >> 44) & 0xf00));
}
static inline bool attr_is_code(uint16_t a) { return (a & SEG_ATTR_S) && (a & ST_CODE); }
static inline bool attr_is_data(uint16_t a) { return (a & SEG_ATTR_S) && !(a & ST_CODE); }

/* Read the 8-byte descriptor named by sel from the GDT or LDT (implicit supervisor
 * access).  Returns false if the selector's index is outside the table limit (or the
 * LDT is unusable); *addr receives the descriptor's linear address. */
bool desc_read(struct cpu *c, uint16_t sel, uint64_t *d, uint64_t *addr);
/* Set the accessed bit of a code/data descriptor in memory if it is clear. */
void desc_set_accessed(struct cpu *c, uint64_t addr, uint64_t *d);

/* Fill a segment register's cache from a descriptor. */
void seg_from_desc(struct segment *s, uint16_t sel, uint64_t d);
/* The SS of a far RET or IRET to the outer privilege level rpl (SDM RET, IRET): a
 * writable data segment of DPL = RPL = rpl (#GP(sel), #SS(sel) if not present), its
 * accessed bit set; a null selector only for a return to 64-bit code at rpl < 3.
 * Checks and returns the new cache; the caller commits it. */
struct segment seg_check_return_ss(struct cpu *c, uint16_t ss_sel, unsigned rpl, bool to64);
/* Real-address mode (and the null/unusable case): see seg.c. */
void seg_load_real(struct cpu *c, unsigned seg, uint16_t sel);

/* MOV/POP to DS, ES, FS, GS or SS with every check of the current mode (real mode:
 * base = sel << 4).  Faults (#GP/#SS/#NP) leave the register unchanged. */
void seg_load(struct cpu *c, unsigned seg, uint16_t sel);

/* Load CS for a far transfer to privilege level cpl (the descriptor already
 * checked): the selector's RPL becomes cpl; the mode and CPL are recomputed. */
void seg_load_cs(struct cpu *c, uint16_t sel, uint64_t d, unsigned cpl);

/* A far JMP/CALL/RET/IRET target code segment: check sel/descriptor for a transfer
 * at privilege cpl_target (for JMP/CALL: the current CPL, conforming allowed with
 * DPL <= CPL; for returns: RPL, checked by the caller).  Raises #GP(sel) / #NP(sel).
 * Returns the descriptor and its address. */
uint64_t seg_check_code(struct cpu *c, uint16_t sel, uint64_t *addr);

/* After a return to an outer privilege level: DS, ES, FS, GS whose DPL < new CPL
 * (data or non-conforming code) become null (SDM Vol. 2 RET/IRET). */
void seg_null_outer(struct cpu *c);

/* The offset in CS of a branch target, checked against the limit outside 64-bit
 * mode and for canonical form in it (#GP(0)). */
void seg_check_rip(struct cpu *c, const struct segment *cs, bool to64, uint64_t rip);

/* Flat segment caches used by SYSCALL/SYSRET and reset (SDM Vol. 2 SYSCALL). */
void seg_set_flat(struct segment *s, uint16_t sel, uint16_t attr);

static inline bool canonical48(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16) == a; }

#endif
