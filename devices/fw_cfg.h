/* QEMU's firmware configuration device, I/O-port flavour (QEMU docs/specs/fw_cfg.rst):
 *   0x510  selector, 16-bit little-endian, write-only: picks an item, resets the offset
 *   0x511  data, read-only here: the item's bytes one after another; past the end, 0
 * A 2- or 4-byte read of the data port returns that many successive bytes, the first
 * in the low byte (the order in which a little-endian guest would store them).
 * Data-port writes are ignored (as QEMU >= 2.4 for the port interface); there is no
 * DMA interface, so FW_CFG_ID reads 1 (traditional interface only) and port 0x514
 * is left unclaimed.
 *
 * Well-known items: FW_CFG_SIGNATURE "QEMU", FW_CFG_ID, FW_CFG_RAM_SIZE (64-bit LE),
 * FW_CFG_NB_CPUS / FW_CFG_MAX_CPUS (16-bit LE), FW_CFG_NOGRAPHIC, FW_CFG_UUID (zeros),
 * and FW_CFG_FILE_DIR: a big-endian u32 count, then per file {u32 size, u16 select,
 * u16 reserved, char name[56]} big-endian, sorted by name, selects from 0x20.
 */
#ifndef HVEMU_DEVICES_FW_CFG_H
#define HVEMU_DEVICES_FW_CFG_H

#include <stdbool.h>
#include <stdint.h>

struct io_bus;
struct fw_cfg;

/* Selector keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h). */
#define FW_CFG_SIGNATURE  0x00
#define FW_CFG_ID         0x01
#define FW_CFG_UUID       0x02
#define FW_CFG_RAM_SIZE   0x03
#define FW_CFG_NOGRAPHIC  0x04
#define FW_CFG_NB_CPUS    0x05
#define FW_CFG_MAX_CPUS   0x0f
#define FW_CFG_FILE_DIR   0x19
#define FW_CFG_FILE_FIRST 0x20
#define FW_CFG_ARCH_LOCAL 0x8000
#define FW_CFG_ENTRY_MASK 0x3fff    /* ~(write channel 0x4000 | arch local 0x8000) */
#define FW_CFG_MAX_FILE_PATH 56
#define FW_CFG_MAX_FILES  32

#define FW_CFG_IO_BASE    0x510
#define FW_CFG_ID_TRADITIONAL 0x1   /* FW_CFG_ID bit 0; bit 1 (DMA) stays clear */

struct fw_cfg *fw_cfg_new(void);
void fw_cfg_free(struct fw_cfg *fc);

/* Items are copied.  False on a bad key, an allocation failure, a name longer than
 * 55 bytes, a duplicate file name or too many files. */
bool fw_cfg_add_bytes(struct fw_cfg *fc, uint16_t key, const void *data, uint32_t len);
bool fw_cfg_add_i16(struct fw_cfg *fc, uint16_t key, uint16_t v);
bool fw_cfg_add_i32(struct fw_cfg *fc, uint16_t key, uint32_t v);
bool fw_cfg_add_i64(struct fw_cfg *fc, uint16_t key, uint64_t v);
bool fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, uint32_t len);

/* The standard items of a PC: signature, ID, UUID, RAM size, CPU counts, nographic
 * and the file "etc/hvemu/version" holding version_text. */
bool fw_cfg_add_machine(struct fw_cfg *fc, uint64_t ram_size, uint16_t ncpus,
                        bool nographic, const char *version_text);

/* Claim ports [base, base + 2). */
bool fw_cfg_attach(struct fw_cfg *fc, struct io_bus *bus, uint16_t base);

#endif
