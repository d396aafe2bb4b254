/*
 * readme_test.cpp - the README's examples print what the README says.
 *
 * The exec example's input and output live in examples/; the README quotes
 * them.  Here the tool runs on the input, its output must equal the
 * recorded one, and the README must contain both verbatim, so none of the
 * three can drift from the others.
 */
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "helpers.h"

using namespace bzt;

namespace {

/* Run a shell command; its standard output, and its exit status. */
std::string run(const std::string &cmd, int *status)
{
    std::string out;
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) {
        *status = -1;
        return out;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    *status = pclose(p);
    return out;
}

const std::string kSrc = BZ_SOURCE_DIR;

}  // namespace

TEST(Readme, ExecExamplePrintsWhatTheReadmeShows)
{
    TempDir dir("bzreadme");
    int status;
    std::string out = run(std::string(BZ_TOOL_PATH) + " exec " + dir.path() +
                              "/lib --schema " + kSrc +
                              "/examples/books.schema < " + kSrc +
                              "/examples/books.jsonl",
                          &status);
    EXPECT_EQ(0, status);
    bool ok = false;
    std::string expected = read_file(kSrc + "/examples/books.expected", &ok);
    ASSERT_TRUE(ok);
    EXPECT_EQ(expected, out);
    std::string readme = read_file(kSrc + "/README.md", &ok);
    ASSERT_TRUE(ok);
    std::string input = read_file(kSrc + "/examples/books.jsonl", &ok);
    ASSERT_TRUE(ok);
    EXPECT_NE(std::string::npos, readme.find(expected))
        << "README.md does not quote examples/books.expected";
    EXPECT_NE(std::string::npos, readme.find(input))
        << "README.md does not quote examples/books.jsonl";
}

TEST(Readme, CExampleRunsTwiceOnOneDirectory)
{
    TempDir dir("bzreadme");
    int status;
    std::string cmd = std::string(BZ_EXAMPLE_PATH) + " " + dir.path() + "/b";
    std::string first = run(cmd, &status);
    EXPECT_EQ(0, status);
    EXPECT_EQ("#1 Dune (1965) by Frank Herbert\n"
              "refused: Item id=99 does not exist in 'authors'\n",
              first);
    /* Data persists: the second run finds both books. */
    std::string second = run(cmd, &status);
    EXPECT_EQ(0, status);
    EXPECT_NE(std::string::npos, second.find("#2 Dune (1965) by Frank Herbert"))
        << second;
}
