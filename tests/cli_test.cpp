/*
 * cli_test.cpp - the command-line contract of every program (tools/common/
 * cli.h): --help and --version everywhere, a bad option is exit status 2
 * with "PROG: ..." on stderr, and options may follow the operands.
 */
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <string>
#include <vector>

#include "helpers.h"

using namespace bzt;

namespace {

struct Result {
    int status = -1;
    std::string out, err;
};

Result run(const std::vector<std::string> &argv)
{
    Result r;
    int st = 0;
    if (run_process(argv, "", 60000, &r.out, &r.err, &st) && WIFEXITED(st))
        r.status = WEXITSTATUS(st);
    return r;
}

std::string show(const Result &r)
{
    return "exit " + std::to_string(r.status) + "\n--- stdout:\n" + r.out +
           "--- stderr:\n" + r.err;
}

/* A program, or one `bazoola` command: how to call it and its name in
 * messages. */
struct Prog {
    std::vector<std::string> argv;
    std::string name;
};

std::vector<Prog> programs()
{
    std::vector<Prog> v;
    for (const char *cmd : {"exec", "dump", "schema", "import", "export",
                            "check", "load", "shm"})
        v.push_back({{BZ_TOOL_PATH, cmd}, std::string("bazoola ") + cmd});
    v.push_back({{BZ_TOOL_PATH}, "bazoola"});
    v.push_back({{BZ_BZSTAT_PATH}, "bzstat"});
    v.push_back({{BZ_BZWORKERS_PATH}, "bzworkers"});
#ifdef BZ_BZTASKS_PATH
    v.push_back({{BZ_BZTASKS_PATH}, "bztasks"});
#endif
#ifdef BZ_BZBENCH_PATH
    v.push_back({{BZ_BZBENCH_PATH}, "bzbench"});
#endif
    return v;
}

std::vector<std::string> with(std::vector<std::string> argv,
                              const std::vector<std::string> &more)
{
    argv.insert(argv.end(), more.begin(), more.end());
    return argv;
}

}  // namespace

TEST(Cli, EveryProgramAnswersHelpOnStdout)
{
    for (const Prog &p : programs()) {
        for (const char *opt : {"--help", "-h"}) {
            Result r = run(with(p.argv, {opt}));
            EXPECT_EQ(0, r.status) << p.name << " " << opt << "\n" << show(r);
            EXPECT_EQ(0u, r.out.find("Usage: " + p.name)) << p.name << "\n"
                                                          << r.out;
            EXPECT_EQ("", r.err) << p.name;
        }
    }
}

TEST(Cli, EveryProgramAnswersVersion)
{
    for (const Prog &p : programs()) {
        std::string prog = p.name.substr(0, p.name.find(' '));
        for (const char *opt : {"--version", "-V"}) {
            Result r = run(with(p.argv, {opt}));
            EXPECT_EQ(0, r.status) << p.name << " " << opt << "\n" << show(r);
            EXPECT_EQ(prog + " " + bz_version() + "\n", r.out) << p.name;
        }
    }
}

TEST(Cli, ABadOptionIsExitTwoNamingProgramAndOption)
{
    for (const Prog &p : programs()) {
        for (const char *opt : {"--no-such-option", "-Z"}) {
            Result r = run(with(p.argv, {opt}));
            EXPECT_EQ(2, r.status) << p.name << " " << opt << "\n" << show(r);
            EXPECT_EQ(0u, r.err.find(p.name + ": ")) << r.err;
            EXPECT_NE(std::string::npos, r.err.find(opt[1] == '-' ? opt : "-Z"))
                << r.err;
            EXPECT_NE(std::string::npos, r.err.find("--help")) << r.err;
            EXPECT_EQ("", r.out) << p.name;
        }
    }
}

TEST(Cli, AMissingOptionValueIsExitTwo)
{
    Result r = run({BZ_BZSTAT_PATH, "/tmp", "--watch"});
    EXPECT_EQ(2, r.status) << show(r);
    EXPECT_EQ(0u, r.err.find("bzstat: option '--watch' needs a value")) << r.err;
    r = run({BZ_BZWORKERS_PATH, "-n"});
    EXPECT_EQ(2, r.status) << show(r);
    EXPECT_EQ(0u, r.err.find("bzworkers: option '-n' needs a value")) << r.err;
}

TEST(Cli, AnExtraOperandIsExitTwoNamingIt)
{
    Result r = run({BZ_TOOL_PATH, "check", "/tmp/a", "/tmp/b"});
    EXPECT_EQ(2, r.status) << show(r);
    EXPECT_EQ(0u, r.err.find("bazoola check: /tmp/b: unexpected operand"))
        << r.err;
}

/* The forms the documentation shows: options after the directory. */
TEST(Cli, OptionsMayFollowTheOperands)
{
    TempDir tmp("bzcli");
    std::string dir = tmp.file("d");
    {
        Db db(open_db(dir, "t: id PK, name CHAR(10)\n"));
        ASSERT_TRUE(db);
        Values v(make_values({{"name", "x"}}));
        ASSERT_EQ(BZ_OK, bz_insert(db.get(), "t", v.get(), nullptr));
    }
    Result repair = run({BZ_TOOL_PATH, "check", dir, "--repair"});
    EXPECT_EQ(0, repair.status) << show(repair);
    EXPECT_NE(std::string::npos, repair.out.find("after repair")) << repair.out;
    Result json = run({BZ_TOOL_PATH, "check", dir, "--json"});
    EXPECT_EQ(0, json.status) << show(json);
    EXPECT_NE(std::string::npos, json.out.find("\"status\": \"clean\""))
        << json.out;
    Result dump = run({BZ_TOOL_PATH, "dump", dir, "t", "--format", "csv"});
    EXPECT_EQ(0, dump.status) << show(dump);
    EXPECT_EQ("id,name\r\n1,\"x\"\r\n", dump.out);
    Result workers = run({BZ_BZWORKERS_PATH, tmp.file("w"), "-w", "1", "--ops=3"});
    EXPECT_EQ(0, workers.status) << show(workers);
    EXPECT_NE(std::string::npos, workers.out.find("1 workers x 3 ops"))
        << workers.out;
    /* "--" ends the options: what follows is an operand even if it looks
     * like one. */
    Result dash = run({BZ_TOOL_PATH, "check", "--", "--repair"});
    EXPECT_EQ(1, dash.status) << show(dash);
    EXPECT_NE(std::string::npos, dash.err.find("--repair")) << dash.err;
}

/* bazoola's own options come before the command; the command's after it. */
TEST(Cli, TheShellPassesEverythingAfterTheCommandOn)
{
    Result r = run({BZ_TOOL_PATH, "--repair", "check"});
    EXPECT_EQ(2, r.status) << show(r);
    EXPECT_EQ(0u, r.err.find("bazoola: unknown option '--repair'")) << r.err;
    Result u = run({BZ_TOOL_PATH, "frobnicate"});
    EXPECT_EQ(2, u.status) << show(u);
    EXPECT_EQ(0u, u.err.find("bazoola: frobnicate: unknown command")) << u.err;
}
