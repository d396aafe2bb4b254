/*
 * exec_test.cpp - `bazoola exec` on bad input: every malformed line gets a
 * bad_request line naming the line, and the run goes on.
 */
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "helpers.h"

using namespace bzt;

namespace {

struct ToolRun {
    int status;
    std::vector<std::string> lines;
};

ToolRun exec_lines(const std::string &args, const std::string &input,
               const TempDir &tmp)
{
    std::string in = tmp.file("input.jsonl");
    EXPECT_TRUE(write_file(in, input));
    std::string cmd = std::string(BZ_TOOL_PATH) + " " + args + " < " + in +
                      " 2>/dev/null";
    ToolRun r{-1, {}};
    FILE *p = popen(cmd.c_str(), "r");
    if (!p)
        return r;
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    r.status = pclose(p);
    std::istringstream ss(out);
    std::string line;
    while (std::getline(ss, line))
        r.lines.push_back(line);
    return r;
}

std::string kind_of(const std::string &line)
{
    json_error_t e;
    Json j(json_loads(line.c_str(), 0, &e));
    if (!j)
        return "<not json>";
    json_t *err = json_object_get(j.get(), "error");
    if (err)
        return json_string_value(err);
    return json_object_get(j.get(), "ok") ? "ok" : "<neither>";
}

std::string message_of(const std::string &line)
{
    Json j(json_loads(line.c_str(), 0, nullptr));
    json_t *m = j ? json_object_get(j.get(), "message") : nullptr;
    return m ? json_string_value(m) : "";
}

}  // namespace

TEST(ExecBadInput, EveryBadLineGetsABadRequestAndTheRunGoesOn)
{
    TempDir tmp("bzexec");
    ASSERT_TRUE(write_file(tmp.file("s.schema"),
                           "a: id PK, name CHAR(5)\n"));
    const std::vector<std::string> bad = {
        "this is not json",
        "[1, 2, 3]",
        "{\"op\": \"insert\"}",
        "{\"op\": \"frobnicate\", \"table\": \"a\"}",
        "{\"op\": \"insert\", \"table\": \"nope\", \"values\": {}}",
        "{\"op\": \"insert\", \"table\": \"a\", \"values\": {\"zzz\": 1}}",
        "{\"op\": \"find_by_id\", \"table\": \"a\", \"id\": \"1\"}",
        "{\"op\": \"find_by_cond\", \"table\": \"a\", \"cond\": {\"XX\": {\"name\": \"a\"}}}",
        "{\"op\": \"find_by_cond\", \"table\": \"a\", \"cond\": {\"EQ\": {\"name\": [1]}}}",
        "{\"op\": \"find_all\", \"table\": \"a\", \"joins\": [{\"type\": \"sideways\"}]}",
        "{\"op\": \"insert\", \"table\": \"a\", \"values\": {\"name\": \"x\"}",
        "\"just a string\"",
    };
    std::string input;
    for (const auto &l : bad)
        input += l + "\n";
    input += "{\"op\":\"insert\",\"table\":\"a\",\"values\":{\"name\":\"ok\"}}\n";
    input += "{\"op\":\"find_all\",\"table\":\"a\"}\n";
    ToolRun r = exec_lines("exec " + tmp.file("d") + " --schema " +
                           tmp.file("s.schema"),
                       input, tmp);
    EXPECT_EQ(0, r.status);
    ASSERT_EQ(bad.size() + 2, r.lines.size());
    for (size_t i = 0; i < bad.size(); i++) {
        EXPECT_EQ("bad_request", kind_of(r.lines[i])) << bad[i] << " -> "
                                                      << r.lines[i];
    }
    /* The tool's own complaints name the input line. */
    EXPECT_NE(std::string::npos, message_of(r.lines[0]).find("line 1"))
        << r.lines[0];
    EXPECT_NE(std::string::npos, message_of(r.lines[2]).find("line 3"))
        << r.lines[2];
    EXPECT_EQ("ok", kind_of(r.lines[bad.size()]));
    EXPECT_EQ("{\"ok\":[{\"id\":1,\"name\":\"ok\"}]}", r.lines[bad.size() + 1]);
}

/* JSON strings may hold \u0000; as condition values they are searched for
 * like any other character (they used to be refused as bad_request). */
TEST(ExecConditions, NulInConditionStrings)
{
    TempDir tmp("bzexec");
    ASSERT_TRUE(write_file(tmp.file("s.schema"), "t: id PK, body TEXT, c CHAR(5)\n"));
    const std::string input =
        R"({"op":"insert","table":"t","values":{"body":"a\u0000b","c":"x"}})" "\n"
        R"({"op":"insert","table":"t","values":{"body":"ab","c":"y"}})" "\n"
        R"({"op":"find_by_cond","table":"t","cond":{"SUBSTR":{"body":"\u0000"}}})" "\n"
        R"({"op":"find_by_cond","table":"t","cond":{"ISUBSTR":{"body":"A\u0000B"}}})" "\n"
        R"({"op":"find_by_cond","table":"t","cond":{"EQ":{"body":"a\u0000b"}}})" "\n"
        R"({"op":"find_by_cond","table":"t","cond":{"IN":{"body":["zz","a\u0000b"]}}})" "\n"
        R"({"op":"find_by_cond","table":"t","cond":{"EQ":{"c":"x\u0000"}}})" "\n"
        R"({"op":"find_by_cond","table":"t","cond":{"NOT":{"SUBSTR":{"body":"\u0000"}}}})" "\n";
    ToolRun r = exec_lines("exec " + tmp.file("d") + " --schema " + tmp.file("s.schema"),
                           input, tmp);
    EXPECT_EQ(0, r.status);
    const std::string first = R"({"ok":[{"id":1,"body":"a\u0000b","c":"x"}]})";
    const std::vector<std::string> want = {
        R"({"ok":{"id":1,"body":"a\u0000b","c":"x"}})",
        R"({"ok":{"id":2,"body":"ab","c":"y"}})",
        first, first, first, first,
        R"({"ok":[]})",
        R"({"ok":[{"id":2,"body":"ab","c":"y"}]})",
    };
    EXPECT_EQ(want, r.lines);
}

TEST(ExecBadInput, BlankLinesAreSkippedAndLongLinesWork)
{
    TempDir tmp("bzexec");
    ASSERT_TRUE(write_file(tmp.file("s.schema"), "t: id PK, body TEXT\n"));
    std::string big(200000, 'x');
    std::string input = "\n\n{\"op\":\"insert\",\"table\":\"t\",\"values\":{\"body\":\"" +
                        big + "\"}}\n\n{\"op\":\"find_by_id\",\"table\":\"t\",\"id\":1}\n";
    ToolRun r = exec_lines("exec " + tmp.file("d") + " --schema " +
                           tmp.file("s.schema"),
                       input, tmp);
    EXPECT_EQ(0, r.status);
    ASSERT_EQ(2u, r.lines.size());
    EXPECT_NE(std::string::npos, r.lines[1].find(big));
}

/* A request line is bounded (64 MiB): a longer one gets bad_request
 * naming its line, without taking that much memory, and the run goes on
 * with the next line. */
TEST(ExecBadInput, AnOverlongLineIsRefusedAndTheRunGoesOn)
{
    TempDir tmp("bzexec");
    ASSERT_TRUE(write_file(tmp.file("s.schema"), "t: id PK, body TEXT\n"));
    std::string input = "{\"op\":\"insert\",\"table\":\"t\",\"values\":{\"body\":\"";
    input.append((size_t)64 << 20, 'x');
    input += "\"}}\n{\"op\":\"insert\",\"table\":\"t\",\"values\":{\"body\":\"ok\"}}\n";
    ToolRun r = exec_lines("exec " + tmp.file("d") + " --schema " +
                           tmp.file("s.schema"),
                       input, tmp);
    EXPECT_EQ(0, r.status);
    ASSERT_EQ(2u, r.lines.size());
    EXPECT_NE(std::string::npos, r.lines[0].find("bad_request")) << r.lines[0];
    EXPECT_NE(std::string::npos, r.lines[0].find("line 1")) << r.lines[0];
    EXPECT_NE(std::string::npos, r.lines[0].find("longer than 64 MiB")) << r.lines[0];
    /* The second line is a new request, not the tail of the first. */
    EXPECT_NE(std::string::npos, r.lines[1].find("\"id\":1")) << r.lines[1];
}

TEST(ExecBadInput, ExitStatusesForBadInvocations)
{
    TempDir tmp("bzexec");
    /* No schema given and none recorded: cannot open (1), and no directory
     * is left behind. */
    ToolRun r = exec_lines("exec " + tmp.file("missing"), "", tmp);
    EXPECT_EQ(1, WEXITSTATUS(r.status));
    bool ok = true;
    read_file(tmp.file("missing") + "/.lock", &ok);
    EXPECT_FALSE(ok);
    /* A schema file that does not parse (1). */
    ASSERT_TRUE(write_file(tmp.file("bad.schema"), "a: id PK, x FLOAT\n"));
    r = exec_lines("exec " + tmp.file("d") + " --schema " + tmp.file("bad.schema"),
                   "", tmp);
    EXPECT_EQ(1, WEXITSTATUS(r.status));
    /* Usage errors (2). */
    r = exec_lines("exec", "", tmp);
    EXPECT_EQ(2, WEXITSTATUS(r.status));
    r = exec_lines("no-such-command", "", tmp);
    EXPECT_EQ(2, WEXITSTATUS(r.status));
}
