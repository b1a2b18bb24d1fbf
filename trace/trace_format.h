/* The on-disk format of the hvemu event trace (TLB-MODEL.md Part A-7, B-(b)).
 *
 * Everything is little-endian and is (de)serialised byte by byte through the
 * helpers in trace_format.c, never by casting a struct onto file bytes: the
 * layouts below are the contract, the C structs are only convenient views.
 *
 * File layout
 *   [fixed header, 64 bytes]
 *   [variable header, ext_len bytes]        (geometry table + key=value text)
 *   [chunk]*                                (independent zlib streams)
 *   [summary chunk]                         (kind 1, always last; its presence
 *                                            means "the trace was closed")
 *
 * Fixed header (TRACE_HEADER_SIZE = 64)
 *   off size field
 *    0   8   magic "XTLBTRC\0"
 *    8   2   version (TRACE_VERSION)
 *   10   2   header_size (64; a reader rejects anything else for this version)
 *   12   4   ext_len: bytes of variable header that follow (>= 64, <= 65536)
 *   16   8   event_mask: bit t set = records of type t may appear (filter)
 *   24   8   seed (the run's RNG seed)
 *   32   8   filter_hash: FNV-1a 64 of the canonical filter text (0 = no filter)
 *   40   8   build_id: emulator build hash (first 8 bytes of the git hash)
 *   48   4   core_khz: core frequency in kHz (cycles -> time)
 *   52   2   vp_count
 *   54   1   preset_id (enum trace_preset)
 *   55   1   flags (TRACE_HF_*)
 *   56   2   l1d_4k entries     } geometry summary, the full table is in the
 *   58   1   l1d_4k ways        } variable header
 *   59   1   stlb ways          }
 *   60   2   stlb entries       }
 *   62   2   hit_sample: L1 hits logged 1-in-N (0 = counted only, 1 = all)
 *
 * Variable header (ext_len bytes)
 *   0   64  geometry table: TRACE_STRUCT_COUNT entries of 8 bytes, indexed by
 *           enum trace_struct: {u16 entries, u16 ways, u8 policy,
 *           u8 page_size_mask (bit 0 4K, 1 2M, 2 1G), u16 hit_latency}.
 *           entries == 0: the preset has no such structure.
 *   64  ..  UTF-8 text, "key=value\n" lines, no NUL: preset=, filter= (canonical
 *           filter spec), build= (free text). Unknown keys are ignored.
 *
 * Chunk header (TRACE_CHUNK_HEADER_SIZE = 24, no implicit padding: the u64 is at
 * offset 12 and is read byte-wise, so alignment does not matter)
 *    0   4   compressed_len: bytes of zlib data that follow the header
 *    4   4   raw_len: bytes after inflation (= n_records * 32)
 *    8   4   n_records
 *   12   8   first_cycle: cycle of the first record (0 for a summary)
 *   20   2   vp_or_0xFFFF: the VP of every record, or 0xFFFF when mixed
 *   22   2   kind: 0 records, 1 summary
 * Each chunk is a complete zlib stream (compress2), so any chunk can be
 * decoded alone, in parallel, or after a seek.
 *
 * Record (TRACE_RECORD_SIZE = 32)
 *    0   8   cycle: absolute cycle on this VP (not delta-encoded)
 *    8   8   vaddr: linear address (range flushes: start GVA)
 *   16   8   aux: per type, see enum trace_event
 *   24   2   vp
 *   26   2   pcid_flags: bits 0-11 PCID, 12 G, 13-14 page size (enum
 *            trace_page_size), 15 guest(1)/host(0)
 *   28   1   type (enum trace_event)
 *   29   1   info: bits 0-1 access (R/W/X), bit 2 user, bits 3-5 structure
 *            (enum trace_struct), bits 6-7 walk level or reason; hypercall
 *            records use their own layout (TRACE_HV_*)
 *   30   2   latency: cycles, saturating at 65535
 *
 * Summary chunk: n_records entries of 32 bytes, one per (vp, type) with a
 * non-zero count, sorted by vp then type:
 *    0   8   seen: events the emulator produced (before filters and sampling)
 *    8   8   logged: records written to this file
 *   16   8   reserved (0)
 *   24   2   vp
 *   26   1   type
 *   27   5   reserved (0)
 */
#ifndef HVEMU_TRACE_TRACE_FORMAT_H
#define HVEMU_TRACE_TRACE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACE_MAGIC             "XTLBTRC\0"
#define TRACE_MAGIC_LEN         8
#define TRACE_VERSION           1
#define TRACE_HEADER_SIZE       64
#define TRACE_GEOMETRY_SIZE     64      /* first part of the variable header */
#define TRACE_EXT_MAX           65536   /* a reader refuses larger variable headers */
#define TRACE_CHUNK_HEADER_SIZE 24
#define TRACE_RECORD_SIZE       32
#define TRACE_SUMMARY_ENTRY_SIZE 32
#define TRACE_CHUNK_VP_MIXED    0xFFFFu
/* A chunk never holds more than this many records; readers enforce it so a
 * corrupt raw_len cannot make them allocate gigabytes. */
#define TRACE_CHUNK_MAX_RECORDS (1u << 20)

enum trace_chunk_kind { TRACE_CHUNK_RECORDS = 0, TRACE_CHUNK_SUMMARY = 1 };

/* Header flags. */
#define TRACE_HF_EXACT_MODEL  (1u << 0)   /* the TLB ran in "exact" mode (DESIGN.md §3) */
#define TRACE_HF_FILTERED     (1u << 1)   /* a vp/pcid/cr3/va/events/cycles filter was set */
#define TRACE_HF_INV_COUNTS   (1u << 2)   /* invalidation records carry entries removed (latency) */

enum trace_preset {
    TRACE_PRESET_CUSTOM = 0,
    TRACE_PRESET_SKYLAKE = 1,
    TRACE_PRESET_GOLDENCOVE = 2,
    TRACE_PRESET_ZEN2 = 3,
};

/* Event types. aux / vaddr meaning per type:
 *   LOOKUP_*, MISS     vaddr = linear address, aux = physical address (hits) or 0
 *   WALK_START/DONE    vaddr = linear address; DONE: aux = physical address,
 *                      latency = walk cycles, info bits 6-7 = 0 ok / 1 fault
 *   WALK_STEP          aux = address of the paging-structure entry read,
 *                      info bits 6-7 = level - 1 (0 = PTE .. 3 = PML4E)
 *   FILL, EVICT        vaddr = page, aux = physical address, info structure =
 *                      where, pcid = the entry's PCID (a global entry copied from
 *                      the STLB keeps the PCID it was filled under); an EVICT
 *                      (capacity victim) follows the FILL that displaced it.
 *                      info bits 6-7 = size of the page-table mapping the entry
 *                      came from (0 4K, 1 2M, 2 1G, 3 4M): an entry smashed into
 *                      smaller pieces (pcid_flags size) is invalidated whole
 *                      (SDM 4.10.4.1), so replay needs the original size
 *   INV_INVLPG, INV_PF vaddr = address, pcid = current PCID
 *   INV_INVPCID0..3    vaddr = address (type 0), pcid = descriptor PCID
 *   INV_CR3            aux = CR3 written (bit 63 cleared), pcid = new PCID
 *   INV_CR3_NOFLUSH    as INV_CR3, nothing was invalidated (bit 63 set)
 *   INV_CR4            aux = new CR4; info bit 6 set = current PCID only
 *                      (PAE change / SMEP set), clear = everything incl. globals
 *   HV_FLUSH_*         see TRACE_HV_* below
 *   HV_IPI             aux = target bitmap (VPs 0-63), vaddr = vector
 *   SHOOTDOWN_SEND/ACK aux = target bitmap / acking VP, latency = stall
 *   SUSPEND, RESUME    aux = VP holding the TLB lock (SUSPEND)
 *   CTX_MARKER         a context change (CR3 load, PCID switch, CR4.PCIDE/PGE):
 *                      aux = CR3 (bit 63 cleared), vaddr = CR4, pcid = current PCID;
 *                      written after the invalidation the change caused
 *   INV_CR0            CR0.PG cleared: every entry and PSC (SDM 4.10.4.1); aux = CR0
 *   INV_REFRESH        a write through an entry with D=0 removed it to walk again
 *                      (SDM 4.8): vaddr = address, pcid = current PCID, as INVLPG
 * Every invalidation record (INV_*, HV_FLUSH_* target actions) has latency =
 * the number of TLB entries it removed (saturating at 65535; PSC entries are not
 * included); replay recomputes it and compares.
 */
#define TRACE_EVENT_LIST(X) \
    X(LOOKUP_L1_HIT,   "l1_hit")          \
    X(LOOKUP_STLB_HIT, "stlb_hit")        \
    X(MISS,            "miss")            \
    X(WALK_START,      "walk_start")      \
    X(WALK_STEP,       "walk_step")       \
    X(WALK_DONE,       "walk_done")       \
    X(FILL,            "fill")            \
    X(EVICT,           "evict")           \
    X(INV_INVLPG,      "invlpg")          \
    X(INV_INVPCID0,    "invpcid0")        \
    X(INV_INVPCID1,    "invpcid1")        \
    X(INV_INVPCID2,    "invpcid2")        \
    X(INV_INVPCID3,    "invpcid3")        \
    X(INV_CR3,         "cr3")             \
    X(INV_CR3_NOFLUSH, "cr3_noflush")     \
    X(INV_CR4,         "cr4")             \
    X(INV_PF,          "pf")              \
    X(HV_FLUSH_SPACE,  "hv_flush_space")  \
    X(HV_FLUSH_SPACE_EX, "hv_flush_space_ex") \
    X(HV_FLUSH_LIST,   "hv_flush_list")   \
    X(HV_FLUSH_LIST_EX, "hv_flush_list_ex") \
    X(HV_IPI,          "hv_ipi")          \
    X(SHOOTDOWN_SEND,  "shootdown_send")  \
    X(SHOOTDOWN_ACK,   "shootdown_ack")   \
    X(SUSPEND,         "suspend")         \
    X(RESUME,          "resume")          \
    X(CTX_MARKER,      "ctx")             \
    X(INV_CR0,         "cr0")             \
    X(INV_REFRESH,     "dirty_refresh")

enum trace_event {
#define TRACE_EV_ENUM(id, name) TRACE_EV_##id,
    TRACE_EVENT_LIST(TRACE_EV_ENUM)
#undef TRACE_EV_ENUM
    TRACE_EV_COUNT
};
_Static_assert(TRACE_EV_COUNT <= 64, "event_mask is 64 bits");

/* Hypercall flush records. The hypercall itself is one record on the caller
 * (info bit 7 clear): vaddr = AddressSpace, aux = target bitmap (VPs 0-63),
 * latency = caller stall. Each target then gets one action record per range on
 * its own VP (info bit 7 set): SPACE: vaddr = 0, aux = AddressSpace root;
 * LIST: vaddr = start GVA, aux = AddressSpace root (4K aligned) | (pages - 1)
 * in its low 12 bits, as in the TLFS GVA element. info bits 0-2 are the
 * hypercall's flag bits 0-2. */
#define TRACE_HV_ALL_PROCESSORS  (1u << 0)
#define TRACE_HV_ALL_SPACES      (1u << 1)
#define TRACE_HV_NON_GLOBAL_ONLY (1u << 2)
#define TRACE_HV_TARGET_ACTION   (1u << 7)
#define TRACE_HV_EVERYTHING      (1u << 6)   /* target action: the conservative policy flushed the whole VP */
/* Target actions are written by the mmu (mmu_flush_address_space, mmu_flush_gva*),
 * which does not know whether the hypercall was an Ex form: they are always
 * HV_FLUSH_SPACE or HV_FLUSH_LIST; the caller's record (hv/) names the form.
 * Their latency field = the number of TLB entries the action removed (saturating). */

/* INV_CR4 reason (info bit 6) */
#define TRACE_CR4_CURRENT_PCID_ONLY (1u << 6)
/* INV_* (not HV actions) info bit 7: the conservative flush policy removed every
 * entry of the VP, globals included, instead of the SDM minimum the type names. */
#define TRACE_INV_EVERYTHING (1u << 7)

/* Structures (info bits 3-5) and the geometry table index. */
enum trace_struct {
    TRACE_ST_L1I_4K = 0,
    TRACE_ST_L1I_2M = 1,
    TRACE_ST_L1D_4K = 2,
    TRACE_ST_L1D_2M = 3,
    TRACE_ST_L1D_1G = 4,
    TRACE_ST_STLB = 5,
    TRACE_ST_STLB_1G = 6,
    TRACE_ST_PSC = 7,          /* paging-structure cache, level in info bits 6-7 */
    TRACE_STRUCT_COUNT = 8
};

enum trace_access { TRACE_ACC_R = 0, TRACE_ACC_W = 1, TRACE_ACC_X = 2 };
enum trace_page_size { TRACE_PS_4K = 0, TRACE_PS_2M = 1, TRACE_PS_1G = 2 };
enum trace_repl_policy { TRACE_REPL_LRU = 0, TRACE_REPL_PLRU = 1 };

#define TRACE_PF_PCID(pf)   ((pf) & 0xFFFu)
#define TRACE_PF_GLOBAL     (1u << 12)
#define TRACE_PF_SIZE(pf)   (((pf) >> 13) & 3u)
#define TRACE_PF_GUEST      (1u << 15)
#define TRACE_MAKE_PF(pcid, global, size, guest) \
    (uint16_t)(((pcid) & 0xFFFu) | ((global) ? TRACE_PF_GLOBAL : 0) | \
               (((size) & 3u) << 13) | ((guest) ? TRACE_PF_GUEST : 0))

/* CR3 bits 12-51: the page-table root that tags entries (HV-SPEC A-6). */
#define TRACE_CR3_ROOT_MASK 0x000FFFFFFFFFF000ull

#define TRACE_INFO_ACCESS(i)  ((i) & 3u)
#define TRACE_INFO_USER       (1u << 2)
#define TRACE_INFO_STRUCT(i)  (((i) >> 3) & 7u)
#define TRACE_INFO_LEVEL(i)   (((i) >> 6) & 3u)
#define TRACE_MAKE_INFO(acc, user, st, level) \
    (uint8_t)(((acc) & 3u) | ((user) ? TRACE_INFO_USER : 0) | \
              (((st) & 7u) << 3) | (((level) & 3u) << 6))

/* One record, decoded. */
struct trace_record {
    uint64_t cycle;
    uint64_t vaddr;
    uint64_t aux;
    uint16_t vp;
    uint16_t pcid_flags;
    uint8_t  type;
    uint8_t  info;
    uint16_t latency;
};

struct trace_geometry_entry {
    uint16_t entries;          /* 0 = absent */
    uint16_t ways;             /* == entries for fully associative */
    uint8_t  policy;           /* enum trace_repl_policy */
    uint8_t  page_size_mask;   /* bit n = enum trace_page_size n held here */
    uint16_t hit_latency;
};

/* The fixed header, decoded. */
struct trace_header {
    uint16_t version;
    uint16_t header_size;
    uint32_t ext_len;
    uint64_t event_mask;
    uint64_t seed;
    uint64_t filter_hash;
    uint64_t build_id;
    uint32_t core_khz;
    uint16_t vp_count;
    uint8_t  preset_id;
    uint8_t  flags;
    uint16_t l1d_entries;
    uint8_t  l1d_ways;
    uint8_t  stlb_ways;
    uint16_t stlb_entries;
    uint16_t hit_sample;
};

struct trace_chunk_header {
    uint32_t compressed_len;
    uint32_t raw_len;
    uint32_t n_records;
    uint64_t first_cycle;
    uint16_t vp;               /* or TRACE_CHUNK_VP_MIXED */
    uint16_t kind;             /* enum trace_chunk_kind */
};

struct trace_summary_entry {
    uint64_t seen;
    uint64_t logged;
    uint16_t vp;
    uint8_t  type;
};

/* Names: "fill", "invpcid2", ...; NULL for an out-of-range type. */
const char *trace_event_name(unsigned type);
/* Type for a name (case-insensitive, also accepts the enum spelling without
 * the TRACE_EV_ prefix, e.g. "LOOKUP_L1_HIT"); -1 if unknown. */
int trace_event_from_name(const char *name, size_t len);
const char *trace_struct_name(unsigned st);
const char *trace_preset_name(unsigned preset);

/* Byte-exact (de)serialisation. */
void trace_put_le16(uint8_t *p, uint16_t v);
void trace_put_le32(uint8_t *p, uint32_t v);
void trace_put_le64(uint8_t *p, uint64_t v);
uint16_t trace_get_le16(const uint8_t *p);
uint32_t trace_get_le32(const uint8_t *p);
uint64_t trace_get_le64(const uint8_t *p);

void trace_encode_record(uint8_t out[TRACE_RECORD_SIZE], const struct trace_record *r);
void trace_decode_record(const uint8_t in[TRACE_RECORD_SIZE], struct trace_record *r);
void trace_encode_header(uint8_t out[TRACE_HEADER_SIZE], const struct trace_header *h);
void trace_decode_header(const uint8_t in[TRACE_HEADER_SIZE], struct trace_header *h);
void trace_encode_chunk_header(uint8_t out[TRACE_CHUNK_HEADER_SIZE], const struct trace_chunk_header *c);
void trace_decode_chunk_header(const uint8_t in[TRACE_CHUNK_HEADER_SIZE], struct trace_chunk_header *c);
void trace_encode_geometry(uint8_t out[TRACE_GEOMETRY_SIZE], const struct trace_geometry_entry g[TRACE_STRUCT_COUNT]);
void trace_decode_geometry(const uint8_t in[TRACE_GEOMETRY_SIZE], struct trace_geometry_entry g[TRACE_STRUCT_COUNT]);
void trace_encode_summary_entry(uint8_t out[TRACE_SUMMARY_ENTRY_SIZE], const struct trace_summary_entry *e);
void trace_decode_summary_entry(const uint8_t in[TRACE_SUMMARY_ENTRY_SIZE], struct trace_summary_entry *e);

/* FNV-1a 64 (the filter hash). */
uint64_t trace_fnv1a64(const void *data, size_t len);

#endif
