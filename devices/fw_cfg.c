/* fw_cfg, port interface.  See devices/fw_cfg.h and QEMU docs/specs/fw_cfg.rst. */
#include "devices/fw_cfg.h"
#include "devices/io.h"

#include <stdlib.h>
#include <string.h>

#define FW_CFG_ENTRIES (FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES)
#define FW_CFG_INVALID 0xffff
#define DIR_ENTRY_SIZE (4 + 2 + 2 + FW_CFG_MAX_FILE_PATH)

struct fw_item {
    uint8_t *data;
    uint32_t len;
};

struct fw_file {
    char name[FW_CFG_MAX_FILE_PATH];
    uint8_t *data;
    uint32_t len;
};

struct fw_cfg {
    struct fw_item items[FW_CFG_ENTRIES];   /* generic items; no arch-local items on this machine */
    struct fw_file files[FW_CFG_MAX_FILES]; /* kept sorted by name, as QEMU does */
    unsigned nfiles;
    uint16_t cur;                           /* selected key, or FW_CFG_INVALID */
    uint32_t off;
};

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v;
}

static bool set_item(struct fw_item *it, const void *data, uint32_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return false;
    if (len)
        memcpy(copy, data, len);
    free(it->data);
    it->data = copy;
    it->len = len;
    return true;
}

struct fw_cfg *fw_cfg_new(void)
{
    struct fw_cfg *fc = calloc(1, sizeof *fc);
    if (fc)
        fc->cur = FW_CFG_INVALID;
    return fc;
}

void fw_cfg_free(struct fw_cfg *fc)
{
    if (!fc)
        return;
    for (unsigned i = 0; i < FW_CFG_FILE_FIRST; i++)    /* file slots alias files[] */
        free(fc->items[i].data);
    for (unsigned i = 0; i < fc->nfiles; i++)
        free(fc->files[i].data);
    free(fc);
}

bool fw_cfg_add_bytes(struct fw_cfg *fc, uint16_t key, const void *data, uint32_t len)
{
    /* File slots are managed through fw_cfg_add_file, so the directory stays consistent. */
    if (key >= FW_CFG_FILE_FIRST || key == FW_CFG_FILE_DIR)
        return false;
    return set_item(&fc->items[key], data, len);
}

bool fw_cfg_add_i16(struct fw_cfg *fc, uint16_t key, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    return fw_cfg_add_bytes(fc, key, b, sizeof b);
}

bool fw_cfg_add_i32(struct fw_cfg *fc, uint16_t key, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return fw_cfg_add_bytes(fc, key, b, sizeof b);
}

bool fw_cfg_add_i64(struct fw_cfg *fc, uint16_t key, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return fw_cfg_add_bytes(fc, key, b, sizeof b);
}

/* Rebuild FW_CFG_FILE_DIR and the file slots from the sorted file list. */
static bool rebuild_dir(struct fw_cfg *fc)
{
    uint32_t len = 4 + fc->nfiles * DIR_ENTRY_SIZE;
    uint8_t *dir = calloc(1, len);
    if (!dir)
        return false;
    put_be32(dir, fc->nfiles);
    for (unsigned i = 0; i < fc->nfiles; i++) {
        uint8_t *e = dir + 4 + i * DIR_ENTRY_SIZE;
        put_be32(e, fc->files[i].len);
        put_be16(e + 4, (uint16_t)(FW_CFG_FILE_FIRST + i));
        memcpy(e + 8, fc->files[i].name, FW_CFG_MAX_FILE_PATH);
        /* The slot shares the file's buffer: items[] of file keys never own memory. */
        fc->items[FW_CFG_FILE_FIRST + i] = (struct fw_item){ fc->files[i].data, fc->files[i].len };
    }
    free(fc->items[FW_CFG_FILE_DIR].data);
    fc->items[FW_CFG_FILE_DIR] = (struct fw_item){ dir, len };
    return true;
}

bool fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, uint32_t len)
{
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen >= FW_CFG_MAX_FILE_PATH || fc->nfiles >= FW_CFG_MAX_FILES)
        return false;
    unsigned pos = 0;
    while (pos < fc->nfiles && strcmp(fc->files[pos].name, name) < 0)
        pos++;
    if (pos < fc->nfiles && strcmp(fc->files[pos].name, name) == 0)
        return false;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return false;
    if (len)
        memcpy(copy, data, len);
    memmove(&fc->files[pos + 1], &fc->files[pos], (fc->nfiles - pos) * sizeof fc->files[0]);
    memset(&fc->files[pos], 0, sizeof fc->files[0]);
    memcpy(fc->files[pos].name, name, nlen);
    fc->files[pos].data = copy;
    fc->files[pos].len = len;
    fc->nfiles++;
    return rebuild_dir(fc);
}

bool fw_cfg_add_machine(struct fw_cfg *fc, uint64_t ram_size, uint16_t ncpus,
                        bool nographic, const char *version_text)
{
    static const uint8_t uuid[16];      /* no -uuid option: all zeros, as QEMU without one */
    return fw_cfg_add_bytes(fc, FW_CFG_SIGNATURE, "QEMU", 4)
        && fw_cfg_add_i32(fc, FW_CFG_ID, FW_CFG_ID_TRADITIONAL)
        && fw_cfg_add_bytes(fc, FW_CFG_UUID, uuid, sizeof uuid)
        && fw_cfg_add_i64(fc, FW_CFG_RAM_SIZE, ram_size)
        && fw_cfg_add_i16(fc, FW_CFG_NOGRAPHIC, nographic)
        && fw_cfg_add_i16(fc, FW_CFG_NB_CPUS, ncpus)
        && fw_cfg_add_i16(fc, FW_CFG_MAX_CPUS, ncpus)
        && fw_cfg_add_file(fc, "etc/hvemu/version", version_text, (uint32_t)strlen(version_text));
}

static void select_key(struct fw_cfg *fc, uint16_t key)
{
    fc->off = 0;
    /* Bit 14 (write channel) does not change which item is selected; arch-local
     * keys (bit 15) name nothing on this machine. */
    if ((key & FW_CFG_ARCH_LOCAL) || (key & FW_CFG_ENTRY_MASK) >= FW_CFG_ENTRIES)
        fc->cur = FW_CFG_INVALID;
    else
        fc->cur = key & FW_CFG_ENTRY_MASK;
}

static uint8_t data_byte(struct fw_cfg *fc)
{
    if (fc->cur == FW_CFG_INVALID)
        return 0;
    const struct fw_item *it = &fc->items[fc->cur];
    if (fc->off >= it->len)
        return 0;                       /* past the end (or an empty item): zeros */
    return it->data[fc->off++];
}

static uint32_t fw_read(void *opaque, uint16_t off, unsigned size)
{
    struct fw_cfg *fc = opaque;
    if (off != 1)
        return 0;                       /* the selector is write-only */
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)data_byte(fc) << (8 * i);
    return v;
}

static void fw_write(void *opaque, uint16_t off, uint32_t val, unsigned size)
{
    struct fw_cfg *fc = opaque;
    if (off == 0)
        select_key(fc, (uint16_t)val);
    /* data-port writes: ignored */
}

bool fw_cfg_attach(struct fw_cfg *fc, struct io_bus *bus, uint16_t base)
{
    return io_register(bus, base, 2, fw_read, fw_write, fc, "fw_cfg");
}
