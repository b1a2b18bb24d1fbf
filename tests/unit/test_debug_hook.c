/* The -d debug hooks (cpu/debug_hook.h, devices/io.h): each hook site reports what
 * it should, only when its bit is set, and UD2 / claimed ports / known MSRs are not
 * reported as unimplemented.  The hooks here only count and record. */
#include "tests/unit/sys_machine.h"
#include "cpu/debug_hook.h"
#include "devices/io.h"

static struct sm *m;
static struct cpu *c;

static struct {
    int events, uds, msrs, ports;
    int last_vec; uint32_t last_err; bool last_has_err; enum cpu_dbg_event last_kind;
    uint32_t last_msr; bool last_write; uint64_t last_val;
    uint16_t last_op; uint16_t last_port;
} seen;

static void on_event(struct cpu *cc, int vec, uint32_t err, bool has_err, enum cpu_dbg_event kind)
{
    (void)cc;
    seen.events++;
    seen.last_vec = vec; seen.last_err = err; seen.last_has_err = has_err; seen.last_kind = kind;
}
static void on_ud(struct cpu *cc, const struct insn *i) { (void)cc; seen.uds++; seen.last_op = i->op; }
static void on_msr(struct cpu *cc, uint32_t msr, bool write, uint64_t val)
{
    (void)cc;
    seen.msrs++;
    seen.last_msr = msr; seen.last_write = write; seen.last_val = val;
}
static void on_port(void *o, uint16_t port, bool write, uint32_t val, unsigned size)
{
    (void)o; (void)write; (void)val; (void)size;
    seen.ports++;
    seen.last_port = port;
}
static const struct cpu_debug_hooks hooks = { .event = on_event, .ud = on_ud, .msr = on_msr };

static void setup(void)
{
    m = sm_new();
    c = &m->cpu;
    memset(&seen, 0, sizeof seen);
    cpu_debug_hooks = &hooks;
    cpu_debug_mask = CPU_DBG_INT | CPU_DBG_UNIMP;
}
static void teardown(void)
{
    cpu_debug_mask = 0;
    cpu_debug_hooks = NULL;
    sm_free(m);
}

START_TEST(unimplemented_encoding_reported_ud2_not)
{
    struct insn i = sm_insn(h_ud, 3);
    i.op = 0x1a6;                               /* some 0F opcode the decoder rejected */
    ck_assert(sm_exec(m, &i));
    ck_assert_int_eq(seen.uds, 1);
    ck_assert_uint_eq(seen.last_op, 0x1a6);
    ck_assert_int_eq(seen.events, 1);           /* the #UD delivery itself */
    ck_assert_int_eq(seen.last_vec, EXC_UD);
    ck_assert_int_eq(seen.last_kind, CPU_DBG_EXC);
    ck_assert(!seen.last_has_err);

    struct insn u = sm_insn(h_ud, 2);
    u.op = 0x10b;                               /* UD2: Linux's BUG()/WARN(), deliberate */
    ck_assert(sm_exec(m, &u));
    ck_assert_int_eq(seen.uds, 1);
    ck_assert_int_eq(seen.events, 2);
}
END_TEST

START_TEST(unknown_msr_reported_known_not)
{
    c->gpr[RCX] = 0x12345;                      /* no such MSR: #GP(0) */
    c->gpr[RAX] = 0x89;
    c->gpr[RDX] = 0x1;
    struct insn w = sm_insn(h_wrmsr, 2);
    ck_assert(sm_exec(m, &w));
    ck_assert_int_eq(seen.msrs, 1);
    ck_assert_uint_eq(seen.last_msr, 0x12345);
    ck_assert(seen.last_write);
    ck_assert_uint_eq(seen.last_val, 0x100000089ull);
    ck_assert_int_eq(seen.last_vec, EXC_GP);
    ck_assert(seen.last_has_err);
    ck_assert_uint_eq(seen.last_err, 0);

    c->rip = SM_CODE;
    c->gpr[RCX] = 0x277;                        /* IA32_PAT (SDM Vol. 4 Table 2-2): known */
    struct insn r = sm_insn(h_rdmsr, 2);
    ck_assert(!sm_exec(m, &r));
    ck_assert_int_eq(seen.msrs, 1);
}
END_TEST

START_TEST(mask_off_reports_nothing)
{
    cpu_debug_mask = 0;
    struct insn i = sm_insn(h_ud, 3);
    i.op = 0x1a6;
    ck_assert(sm_exec(m, &i));
    c->gpr[RCX] = 0x12345;
    struct insn r = sm_insn(h_rdmsr, 2);
    ck_assert(sm_exec(m, &r));
    ck_assert_int_eq(seen.uds + seen.msrs + seen.events, 0);
}
END_TEST

static uint32_t rd_dummy(void *o, uint16_t off, unsigned size) { (void)o; (void)off; (void)size; return 0x5a; }

START_TEST(unclaimed_ports_reported)
{
    struct io_bus *bus = io_bus_new();
    ck_assert(io_register(bus, 0x70, 2, rd_dummy, NULL, NULL, "dummy"));
    ck_assert_uint_eq(io_read(bus, 0x123, 1), 0xff);    /* before the hook: silent */
    io_set_unclaimed_hook(bus, on_port, NULL);
    ck_assert_uint_eq(io_read(bus, 0x70, 1), 0x5a);
    io_write(bus, 0x71, 1, 1);                  /* claimed but read-only: not "unclaimed" */
    ck_assert_int_eq(seen.ports, 0);
    ck_assert_uint_eq(io_read(bus, 0x2f8, 1), 0xff);
    io_write(bus, 0x2e8, 7, 1);
    ck_assert_int_eq(seen.ports, 2);
    ck_assert_uint_eq(seen.last_port, 0x2e8);
    io_bus_free(bus);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("debug_hook");
    TCase *t = tcase_create("hooks");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, unimplemented_encoding_reported_ud2_not);
    tcase_add_test(t, unknown_msr_reported_known_not);
    tcase_add_test(t, mask_off_reports_nothing);
    tcase_add_test(t, unclaimed_ports_reported);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
