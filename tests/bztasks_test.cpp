/*
 * bztasks_test.cpp - the demo server over HTTP: every route, the forms'
 * validation, search and its explanation, escaping and bounds, a worker
 * killed and restarted, eight clients at once (then `bazoola check`), and
 * a headless Chromium rendering the pages.
 *
 * Each test starts the built server (BZ_BZTASKS_PATH) on a free port (-p 0;
 * the port is read from its "listening on" line) in a fresh directory, and
 * stops it with SIGTERM, which must end it cleanly.
 */
#include <gtest/gtest.h>

#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "helpers.h"

using namespace bzt;

namespace {

struct Reply {
    long status = 0;
    std::string body, location, worker;
    std::string error; /* curl's, when the exchange failed */
};

size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    static_cast<std::string *>(ud)->append(p, sz * n);
    return sz * n;
}

size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    auto *r = static_cast<Reply *>(ud);
    std::string h(p, sz * n);
    auto take = [&](const char *name, std::string &to) {
        size_t len = strlen(name);
        if (strncasecmp(h.c_str(), name, len) == 0) {
            to = h.substr(len);
            while (!to.empty() && (to.back() == '\r' || to.back() == '\n'))
                to.pop_back();
        }
    };
    take("Location: ", r->location);
    take("X-Bztasks-Worker: ", r->worker);
    return sz * n;
}

/* One exchange; post_body non-null makes it a url-encoded POST.  Redirects
 * are not followed: the tests look at them. */
Reply http(CURL *c, const std::string &url, const char *post_body = nullptr,
           long post_len = -1)
{
    Reply r;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (post_body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post_body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
                         post_len >= 0 ? post_len : (long)strlen(post_body));
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        r.error = curl_easy_strerror(rc);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    return r;
}

std::string enc(const std::string &s)
{
    char *e = curl_easy_escape(nullptr, s.c_str(), (int)s.size());
    std::string out = e ? e : "";
    curl_free(e);
    return out;
}

bool contains(const std::string &hay, const std::string &needle)
{
    return hay.find(needle) != std::string::npos;
}

/* The server, started in its own directory. */
class Server {
public:
    explicit Server(int workers = 4) : tmp_("bztasks")
    {
        dir_ = tmp_.file("data");
        out_ = tmp_.file("server.out");
        err_ = tmp_.file("server.err");
        pid_ = fork();
        if (pid_ == 0) {
            if (!freopen(out_.c_str(), "w", stdout) ||
                !freopen(err_.c_str(), "w", stderr))
                _exit(127);
            std::string w = std::to_string(workers);
            execl(BZ_BZTASKS_PATH, "bztasks", "-w", w.c_str(), "-p", "0",
                  "-d", dir_.c_str(), (char *)nullptr);
            _exit(127);
        }
        std::regex re("127\\.0\\.0\\.1:([0-9]+)/");
        for (int i = 0; i < 200 && port_ == 0; i++) {
            std::smatch m;
            std::string o = read_file(out_);
            if (std::regex_search(o, m, re))
                port_ = std::stoi(m[1]);
            else
                usleep(50 * 1000);
        }
        curl_ = curl_easy_init();
        /* The workers start after the line: wait for one to answer. */
        for (int i = 0; port_ && i < 100; i++) {
            if (http(curl_, url("/")).status == 200)
                break;
            usleep(50 * 1000);
        }
    }
    ~Server()
    {
        stop();
        curl_easy_cleanup(curl_);
    }
    /* SIGTERM; true when the server exited 0 within 10 s. */
    bool stop()
    {
        if (pid_ <= 0)
            return stopped_ok_;
        kill(pid_, SIGTERM);
        int st = 0;
        for (int i = 0; i < 200; i++) {
            if (waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = 0;
                stopped_ok_ = WIFEXITED(st) && WEXITSTATUS(st) == 0;
                return stopped_ok_;
            }
            usleep(50 * 1000);
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, &st, 0);
        pid_ = 0;
        return false;
    }
    int port() const { return port_; }
    std::string url(const std::string &path) const
    {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    Reply get(const std::string &path) { return http(curl_, url(path)); }
    Reply post(const std::string &path, const std::string &body)
    {
        return http(curl_, url(path), body.c_str());
    }
    const std::string &dir() const { return dir_; }
    std::string log() const { return read_file(err_); }
    const TempDir &tmp() const { return tmp_; }

private:
    TempDir tmp_;
    std::string dir_, out_, err_;
    pid_t pid_ = -1;
    int port_ = 0;
    bool stopped_ok_ = false;
    CURL *curl_ = nullptr;
};

int run_status(const std::string &cmd)
{
    int st = system(cmd.c_str());
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace

TEST(Bztasks, EveryRouteAnswers)
{
    Server s;
    ASSERT_NE(s.port(), 0) << s.log();
    struct {
        const char *path;
        long status;
        const char *text;
    } cases[] = {
        {"/", 200, "Design system"},
        {"/", 200, "Recent tasks"},
        {"/projects", 200, "Redesign landing page"},
        {"/projects/1", 200, "Design the button component"},
        {"/projects/1", 200, "InverseJoin"},
        {"/tasks", 200, "Hero section design"},
        {"/tasks/1", 200, "Disabled state needs more contrast."},
        {"/users", 200, "carol@example.com"},
        {"/search?q=des", 200, "How this query ran"},
        {"/search", 200, "case-insensitively"},
        {"/stats", 200, "Processes"},
        {"/stats", 200, "hit ratio"},
        {"/users/new", 200, "New user"},
        {"/users/1/edit", 200, "alice@example.com"},
        {"/projects/new", 200, "New project"},
        {"/projects/2/edit", 200, "Redesign landing page"},
        {"/tasks/new?project_id=2", 200, "New task"},
        {"/tasks/3/edit", 200, "Hero section design"},
        {"/comments/new?task_id=1", 200, "New comment"},
        {"/comments/1/edit", 200, "spacing scale"},
        {"/nope", 404, "Not found"},
        {"/projects/999", 404, "no such project"},
        {"/tasks/abc", 404, "Not found"},
        {"/tasks/999/edit", 404, "no such row"},
        {"/users/1/delete", 404, "Not found"},
    };
    for (const auto &c : cases) {
        Reply r = s.get(c.path);
        EXPECT_EQ(r.status, c.status) << c.path << " " << r.error;
        EXPECT_TRUE(contains(r.body, c.text)) << c.path << " lacks " << c.text;
        EXPECT_FALSE(r.worker.empty()) << c.path;
    }
    Reply r = s.post("/projects", "x=1");
    EXPECT_EQ(r.status, 405);
    EXPECT_TRUE(s.stop()) << s.log();
}

TEST(Bztasks, InvalidFormsAreShownAndSaveNothing)
{
    Server s;
    ASSERT_NE(s.port(), 0) << s.log();
    auto before = snapshot_dir(s.dir(), true);
    struct {
        const char *path, *body, *field, *kept;
    } cases[] = {
        {"/projects/new", "name=&owner_id=1&status=active", "err-name",
         "value=\"active\""},
        {"/projects/new", "name=Way+too+long+a+project+name+here&owner_id=1"
         "&status=active", "err-name", "Way too long a project name here"},
        {"/projects/new", "name=Ok&owner_id=999&status=active", "err-owner_id",
         "(unknown: 999)"},
        {"/projects/new", "name=Ok&owner_id=1&status=active&due_date=30.6.2025",
         "err-due_date", "30.6.2025"},
        {"/projects/new", "name=Ok&owner_id=1&status=active&due_date=2025-02-29",
         "err-due_date", "2025-02-29"},
        {"/tasks/new", "title=T&project_id=1&status=todo&priority=high"
         "&estimated_hours=ten", "err-estimated_hours", "value=\"ten\""},
        {"/tasks/new", "title=T&project_id=1&status=todo&priority=highest",
         "err-priority", "highest"},
        {"/tasks/new", "title=T&project_id=x&status=todo&priority=low",
         "err-project_id", "value=\"T\""},
        {"/users/new", "username=eve&email=&role=dev", "err-email",
         "value=\"eve\""},
        {"/comments/new", "task_id=1&user_id=1&content=+++", "err-content",
         "Nothing was saved"},
        {"/tasks/1/edit", "title=&project_id=1&status=todo&priority=low",
         "err-title", "value=\"todo\""},
    };
    for (const auto &c : cases) {
        Reply r = s.post(c.path, c.body);
        EXPECT_EQ(r.status, 422) << c.path << " " << c.body;
        EXPECT_TRUE(contains(r.body, std::string("id=\"") + c.field + "\""))
            << c.body;
        EXPECT_TRUE(contains(r.body, c.kept)) << c.body << " lost " << c.kept;
    }
    EXPECT_EQ(diff_snapshots(before, snapshot_dir(s.dir(), true)), "");

    /* A valid one is saved, then shown after the redirect. */
    Reply ok = s.post("/projects/new", "name=Brand+new&description=d"
                      "&owner_id=2&status=active&due_date=2026-01-31");
    EXPECT_EQ(ok.status, 303);
    ASSERT_TRUE(contains(ok.location, "/projects/")) << ok.location;
    Reply shown = s.get(ok.location);
    EXPECT_EQ(shown.status, 200);
    EXPECT_TRUE(contains(shown.body, "Brand new"));
    EXPECT_TRUE(contains(shown.body, "2026-01-31"));

    Reply ed = s.post("/tasks/2/edit", "title=Colour+tokens+v2&project_id=1"
                      "&status=done&priority=low&estimated_hours=7");
    EXPECT_EQ(ed.status, 303);
    EXPECT_EQ(ed.location, "/tasks/2");
    EXPECT_TRUE(contains(s.get("/tasks/2").body, "Colour tokens v2"));
    Reply cm = s.post("/comments/new", "task_id=2&user_id=3&content=Looks+good");
    EXPECT_EQ(cm.location, "/tasks/2");
    EXPECT_TRUE(contains(s.get("/tasks/2").body, "Looks good"));
    EXPECT_TRUE(s.stop()) << s.log();
}

TEST(Bztasks, SearchFindsDesignRowsAndExplainsTheQuery)
{
    Server s;
    ASSERT_NE(s.port(), 0) << s.log();
    Reply r = s.get("/search?q=des");
    ASSERT_EQ(r.status, 200);
    for (const char *t : {"Design system", "Redesign landing page",
                          "Design the button component",
                          "Hero section design", "ISUBSTR(name, &quot;des&quot;)",
                          "ISUBSTR(title", "ISUBSTR(username",
                          "Join(owner_id", "Rows scanned", "id=\"hits\"",
                          "id=\"lockwait\""})
        EXPECT_TRUE(contains(r.body, t)) << "lacks " << t;
    EXPECT_FALSE(contains(r.body, "Mobile app"));
    /* Three scans read pages: the query's own lookups are counted. */
    auto number_after = [&r](const std::string &mark) {
        size_t at = r.body.find(mark);
        return at == std::string::npos
                   ? -1L : std::atol(r.body.c_str() + at + mark.size());
    };
    long hits = number_after("id=\"hits\">");
    long misses = number_after("id=\"misses\">");
    ASSERT_GE(hits, 0);
    ASSERT_GE(misses, 0);
    EXPECT_GE(hits + misses, 3) << "pages looked up by the three scans";
    EXPECT_TRUE(contains(r.body, "id=\"pid\">" + r.worker + "<"))
        << "the pid shown is the worker that served it: " << r.worker;
    /* Case folding, and a query that is markup. */
    EXPECT_TRUE(contains(s.get("/search?q=DESIGN").body, "Design system"));
    Reply x = s.get("/search?q=" + enc("<b>\"x'&"));
    EXPECT_EQ(x.status, 200);
    EXPECT_TRUE(contains(x.body, "&lt;b&gt;&quot;x&#39;&amp;"));
    EXPECT_FALSE(contains(x.body, "<b>\"x"));
}

TEST(Bztasks, ValuesAreEscapedEverywhere)
{
    Server s;
    ASSERT_NE(s.port(), 0) << s.log();
    Reply r = s.post("/projects/new", "name=" + enc("<script>") +
                     "&description=" + enc("<img src=x onerror=alert(1)>") +
                     "&owner_id=1&status=active");
    ASSERT_EQ(r.status, 303) << r.body;
    for (const std::string &p : {std::string("/"), std::string("/projects"),
                                 r.location, std::string("/search?q=scr")}) {
        Reply g = s.get(p);
        EXPECT_TRUE(contains(g.body, "&lt;script&gt;")) << p;
        EXPECT_FALSE(contains(g.body, "<script>")) << p;
        EXPECT_FALSE(contains(g.body, "<img src=x")) << p;
    }
    /* Kept values on a refused form are escaped too. */
    Reply f = s.post("/users/new", "username=" + enc("\"><script>") +
                     "&email=&role=x");
    EXPECT_EQ(f.status, 422);
    EXPECT_TRUE(contains(f.body, "value=\"&quot;&gt;&lt;script&gt;\""));
}

/* A POST with its own Content-Type and raw body. */
Reply post_typed(const std::string &url, const std::string &type,
                 const std::string &body)
{
    CURL *c = curl_easy_init();
    Reply r;
    if (!c)
        return r;
    struct curl_slist *h =
        curl_slist_append(nullptr, ("Content-Type: " + type).c_str());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body.size());
    if (curl_easy_perform(c) != CURLE_OK)
        r.error = "failed";
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

/* Status and priority are selects of the demo's values, an unknown value
 * is kept and named, a task or project without a due date says nothing
 * about one, and statuses show as badges. */
TEST(Bztasks, FormsOfferChoicesAndPagesOmitWhatIsEmpty)
{
    Server s;
    ASSERT_NE(s.port(), 0) << s.log();
    Reply f = s.get("/tasks/new");
    ASSERT_EQ(f.status, 200);
    EXPECT_TRUE(contains(f.body, "<select id=\"status\" name=\"status\">"))
        << f.body;
    EXPECT_TRUE(contains(f.body, "<select id=\"priority\" name=\"priority\">"))
        << f.body;
    for (const char *v : {"todo", "in_progress", "review", "done", "low",
                          "medium", "high"})
        EXPECT_TRUE(contains(f.body, std::string("<option value=\"") + v + "\""))
            << v;
    Reply p = s.get("/projects/new");
    EXPECT_TRUE(contains(p.body, "<option value=\"planning\">")) << p.body;
    Reply bad = s.post("/tasks/new", "title=T&project_id=1&status=todo"
                                     "&priority=urgent");
    EXPECT_EQ(bad.status, 422);
    EXPECT_TRUE(contains(bad.body, "Not one of: low, medium, high")) << bad.body;
    EXPECT_TRUE(contains(bad.body, "(unknown: urgent)")) << bad.body;
    /* Task 2 of the sample data has no due date, project 3 neither. */
    Reply t = s.get("/tasks/2");
    ASSERT_EQ(t.status, 200);
    EXPECT_FALSE(contains(t.body, "Due")) << t.body;
    EXPECT_TRUE(contains(t.body, "<span class=\"badge s-todo\">todo</span>"))
        << t.body;
    EXPECT_TRUE(contains(t.body, "<span class=\"badge p-medium\">medium</span>"))
        << t.body;
    Reply pr = s.get("/projects/3");
    ASSERT_EQ(pr.status, 200);
    EXPECT_FALSE(contains(pr.body, "Due")) << pr.body;
    Reply dated = s.get("/tasks/1");
    EXPECT_TRUE(contains(dated.body, "&middot; Due 2025-06-30")) << dated.body;
    EXPECT_TRUE(s.stop()) << s.log();
}

/* Bodies are decoded by libmicrohttpd's post processor: a multipart form
 * (what a browser sends for enctype="multipart/form-data") saves like a
 * url-encoded one, and a body that is no form at all is refused. */
TEST(Bztasks, MultipartFormsAreDecodedAndOtherBodiesRefused)
{
    Server s;
    ASSERT_NE(s.port(), 0) << s.log();
    std::string body;
    for (const auto &kv : std::vector<std::pair<std::string, std::string>>{
             {"name", "Multi part"}, {"owner_id", "2"}, {"status", "active"},
             {"description", "line one\r\nline two & more"}})
        body += "--XyZ\r\nContent-Disposition: form-data; name=\"" + kv.first +
                "\"\r\n\r\n" + kv.second + "\r\n";
    body += "--XyZ--\r\n";
    Reply r = post_typed(s.url("/projects/new"),
                         "multipart/form-data; boundary=XyZ", body);
    ASSERT_EQ(r.status, 303) << r.body;
    Reply shown = s.get(r.location);
    EXPECT_TRUE(contains(shown.body, "Multi part")) << shown.body;
    EXPECT_TRUE(contains(shown.body, "line one\r\nline two &amp; more"))
        << shown.body;
    Reply plain = post_typed(s.url("/projects/new"), "text/plain",
                             "name=x&owner_id=1&status=active");
    EXPECT_EQ(plain.status, 415) << plain.body;
    /* url-encoded, split and escaped, still works. */
    Reply u = s.post("/projects/new", "name=A%26B+%E2%82%AC&owner_id=1"
                                      "&status=planning");
    ASSERT_EQ(u.status, 303) << u.body;
    EXPECT_TRUE(contains(s.get(u.location).body, "A&amp;B \xe2\x82\xac"));
    EXPECT_TRUE(s.stop()) << s.log();
}

TEST(Bztasks, BoundsAndGetNeverWrites)
{
    Server s;
    ASSERT_NE(s.port(), 0) << s.log();
    auto before = snapshot_dir(s.dir(), true);
    /* GET on a form with values in the query shows, never saves. */
    Reply g = s.get("/projects/new?name=Sneaky&owner_id=1&status=active");
    EXPECT_EQ(g.status, 200);
    EXPECT_EQ(diff_snapshots(before, snapshot_dir(s.dir(), true)), "");

    std::string big = "name=" + std::string(100 * 1024, 'a') +
                      "&owner_id=1&status=active";
    EXPECT_EQ(s.post("/projects/new", big).status, 413);
    EXPECT_EQ(s.get("/" + std::string(3000, 'x')).status, 414);
    EXPECT_EQ(s.get("/search?q=" + std::string(5000, 'q')).status, 200);
    /* Garbage paths, ids and encodings: answers, never a dead worker. */
    for (const char *p : {"/projects/-1", "/projects/0", "/projects/99999999999999999999",
                          "/tasks/1/edit/x", "//", "/projects//", "/%00",
                          "/search?q=%ff%fe", "/search?q=%", "/tasks/1%2fedit"}) {
        Reply r = s.get(p);
        EXPECT_TRUE(r.status == 200 || r.status == 404) << p << " " << r.status;
    }
    for (const char *b : {"%", "=&=&&", "name=%zz&owner_id=1&status=a",
                          "owner_id=1&owner_id=2", "\xff\xfe"}) {
        Reply r = s.post("/projects/new", b);
        EXPECT_TRUE(r.status == 422 || r.status == 303) << b << " " << r.status;
    }
    EXPECT_EQ(s.get("/").status, 200);
    EXPECT_FALSE(contains(s.log(), "killed by signal")) << s.log();
    EXPECT_FALSE(contains(s.log(), "exited with")) << s.log();
    EXPECT_TRUE(s.stop()) << s.log();
}

TEST(Bztasks, AKilledWorkerIsRestarted)
{
    Server s(2);
    ASSERT_NE(s.port(), 0) << s.log();
    Reply r = s.get("/");
    ASSERT_FALSE(r.worker.empty());
    pid_t victim = std::stoi(r.worker);
    ASSERT_EQ(kill(victim, SIGKILL), 0);
    std::string want = "worker " + r.worker + " killed by signal 9";
    std::string log;
    for (int i = 0; i < 100 && !contains(log, want); i++) {
        usleep(50 * 1000);
        log = s.log();
    }
    ASSERT_TRUE(contains(log, want)) << log;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(log, m, std::regex("started worker ([0-9]+)")));
    pid_t fresh = std::stoi(m[1]);
    EXPECT_EQ(kill(fresh, 0), 0) << "the new worker lives";
    std::set<std::string> served;
    for (int i = 0; i < 200; i++) {
        Reply q = s.get(i % 2 ? "/search?q=des" : "/tasks");
        ASSERT_EQ(q.status, 200) << q.error;
        served.insert(q.worker);
    }
    EXPECT_EQ(served.count(r.worker), 0u);
    EXPECT_TRUE(s.stop()) << s.log();
}

/* Eight clients, 10,000 requests, one in ten a POST that inserts or
 * updates; zero errors, then the files pass `bazoola check`. */
TEST(BztasksLoad, EightClientsTenThousandRequests)
{
    Server s(4);
    ASSERT_NE(s.port(), 0) << s.log();
    const int threads = 8, per = 1250;
    std::atomic<int> errors{0}, posts{0};
    std::vector<std::string> firsts(threads);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++) {
        ts.emplace_back([&, t] {
            CURL *c = curl_easy_init();
            for (int i = 0; i < per; i++) {
                Reply r;
                long want = 200;
                switch ((i + t) % 10) {
                case 0:
                    want = 303;
                    if (i % 20 < 10)
                        r = http(c, s.url("/tasks/new"),
                                 ("title=Load+" + std::to_string(t) + "-" +
                                  std::to_string(i) + "&description=x&project_id="
                                  + std::to_string(1 + i % 4) +
                                  "&assignee_id=2&status=todo&priority=low"
                                  "&estimated_hours=3").c_str());
                    else
                        r = http(c, s.url("/comments/new"),
                                 ("task_id=" + std::to_string(1 + i % 8) +
                                  "&user_id=1&content=c" + std::to_string(i))
                                     .c_str());
                    posts++;
                    break;
                case 1: r = http(c, s.url("/search?q=des")); break;
                case 2: r = http(c, s.url("/projects/" + std::to_string(1 + i % 4))); break;
                case 3: r = http(c, s.url("/tasks/" + std::to_string(1 + i % 8))); break;
                case 4: r = http(c, s.url("/stats")); break;
                case 5: r = http(c, s.url("/users")); break;
                case 6: r = http(c, s.url("/projects")); break;
                default: r = http(c, s.url("/")); break;
                }
                if (r.status != want) {
                    if (errors++ < 5)
                        firsts[t] = std::to_string(r.status) + " " + r.error +
                                    " " + r.body.substr(0, 300);
                }
            }
            curl_easy_cleanup(c);
        });
    }
    for (auto &t : ts)
        t.join();
    std::string why;
    for (auto &f : firsts)
        why += f + "\n";
    EXPECT_EQ(errors.load(), 0) << why;
    EXPECT_EQ(posts.load(), 1000);
    EXPECT_FALSE(contains(s.log(), "killed by signal")) << s.log();
    ASSERT_TRUE(s.stop()) << s.log();
    EXPECT_EQ(run_status(std::string(BZ_TOOL_PATH) + " check " + s.dir() +
                         " > " + s.tmp().file("check.out") + " 2>&1"), 0)
        << read_file(s.tmp().file("check.out"));
}

/* What a browser renders: Chromium headless, when installed. */
/* /stats: numbers with units, live charts fed by /stats.json (Chart.js
 * from Debian, allowed by the page's CSP), and a handful of requests is
 * enough for the hits to show: a worker's lookups reach the segment when
 * each call returns, not per 256. */
TEST(Bztasks, StatsShowUnitsChartsAndLightUse)
{
    Server s(1);
    ASSERT_NE(s.port(), 0) << s.log();
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(s.get("/tasks/1").status, 200);
    Reply j = s.get("/stats.json");
    ASSERT_EQ(j.status, 200) << j.body;
    std::string err;
    Json doc = json_parse(j.body, &err);
    ASSERT_TRUE(doc) << err << j.body;
    json_t *hits = json_object_get(doc.get(), "hits");
    ASSERT_TRUE(json_is_integer(hits)) << j.body;
    EXPECT_GT(json_integer_value(hits), 0) << "three pages, no hits: " << j.body;
    for (const char *k : {"time_ms", "misses", "lock_acquisitions",
                          "lock_wait_ns", "outside"})
        EXPECT_TRUE(json_is_integer(json_object_get(doc.get(), k))) << k;
    Reply p = s.get("/stats");
    ASSERT_EQ(p.status, 200);
    for (const char *want : {"<canvas id=\"chart-ratio\"", "chart-lookups",
                             "chart-wait", "chart-outside",
                             "<script src=\"/stats.js\"></script>",
                             " lookups</td>", " pages</td>", "KiB", " reads</td>"})
        EXPECT_TRUE(contains(p.body, want)) << want;
    /* Outside the tables whose headers carry the unit, no bare number. */
    auto section = [&](const char *from, const char *to) {
        size_t a = p.body.find(from), b = p.body.find(to);
        return a == std::string::npos || b == std::string::npos
                   ? std::string("missing ") + from : p.body.substr(a, b - a);
    };
    for (const std::string &sec : {section("<h2>Segment", "<h2>Files"),
                                   section("<h2>Locks", "<h2>Processes")}) {
        EXPECT_NE(0u, sec.find("missing")) << sec;
        EXPECT_FALSE(std::regex_search(sec, std::regex("<td>[0-9,]+</td>")))
            << "a bare number without its unit:\n" << sec;
    }
    Reply js = s.get("/stats.js");
    EXPECT_EQ(js.status, 200);
    EXPECT_TRUE(contains(js.body, "fetch('/stats.json'"));
    if (access("/usr/share/javascript/chart.js/chart.min.js", R_OK) == 0) {
        Reply c = s.get("/javascript/chart.js/chart.min.js");
        EXPECT_EQ(c.status, 200);
        EXPECT_GT(c.body.size(), 10000u);
    }
    EXPECT_TRUE(s.stop()) << s.log();
}

TEST(BztasksBrowser, ChromiumRendersListsFormsAndStats)
{
    const char *chromium = nullptr;
    for (const char *p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
        if (access(p, X_OK) == 0)
            chromium = p;
    if (!chromium)
        GTEST_SKIP() << "chromium is not installed (Debian package chromium; "
                        "scripts/deps.sh --tests installs it)";
    Server s(2);
    ASSERT_NE(s.port(), 0) << s.log();
    auto run = [&](const std::string &args, const std::string &out) {
        TempDir profile("bztasks-chromium");
        std::string cmd = std::string("timeout 90 ") + chromium +
            " --headless --no-sandbox --disable-gpu --no-first-run"
            " --disable-background-networking --disable-component-update"
            " --disable-sync --disable-dev-shm-usage --user-data-dir=" +
            profile.path() + " " + args + " > " + out + " 2>/dev/null";
        return run_status(cmd);
    };
    std::string dom = s.tmp().file("dom.html");
    ASSERT_EQ(run("--dump-dom " + s.url("/"), dom), 0);
    std::string d = read_file(dom);
    EXPECT_TRUE(contains(d, "Design system")) << d.substr(0, 500);
    EXPECT_TRUE(contains(d, "Recent tasks"));
    EXPECT_TRUE(contains(d, "Served by worker pid"));

    ASSERT_EQ(run("--dump-dom '" + s.url("/search?q=des") + "'", dom), 0);
    d = read_file(dom);
    EXPECT_TRUE(contains(d, "Redesign landing page"));
    EXPECT_TRUE(contains(d, "How this query ran"));
    EXPECT_TRUE(std::regex_search(d, std::regex("id=\"pid\">[0-9]+<")));

    /* /stats: the script ran, polled and drew (the status line counts the
     * seconds of history it holds), all within the page's CSP. */
    if (access("/usr/share/javascript/chart.js/chart.min.js", R_OK) == 0) {
        ASSERT_EQ(run("--virtual-time-budget=4000 --dump-dom " + s.url("/stats"),
                      dom), 0);
        d = read_file(dom);
        EXPECT_TRUE(std::regex_search(d, std::regex("live: [1-9][0-9]* s of history")))
            << d.substr(0, 800);
        std::string shot = std::string(BZ_TEST_OUTPUT_DIR) + "/bztasks-stats.png";
        unlink(shot.c_str());
        ASSERT_EQ(run("--virtual-time-budget=4000 --screenshot=" + shot +
                      " --window-size=1200,1400 " + s.url("/stats"),
                      s.tmp().file("shot.out")), 0);
        EXPECT_GT(file_size(shot), 10000) << shot;
    }

    /* The task list, as a screenshot, with its badges. */
    ASSERT_EQ(run("--dump-dom " + s.url("/tasks"), dom), 0);
    d = read_file(dom);
    EXPECT_TRUE(contains(d, "<span class=\"badge s-in_progress\">in_progress</span>"))
        << d.substr(0, 800);
    std::string list = std::string(BZ_TEST_OUTPUT_DIR) + "/bztasks-tasks.png";
    unlink(list.c_str());
    ASSERT_EQ(run("--screenshot=" + list + " --window-size=1200,900 " +
                  s.url("/tasks"), s.tmp().file("shot.out")), 0);
    EXPECT_GT(file_size(list), 10000) << list;

    /* The form with an error, as a browser posts it: a local page submits
     * a task with an unknown priority; the answer is the form again with
     * the message beside the field and the user's value kept. */
    std::string submit = s.tmp().file("submit.html");
    ASSERT_TRUE(write_file(submit,
        "<!DOCTYPE html><form method=\"post\" action=\"" + s.url("/tasks/new") +
        "\"><input name=\"title\" value=\"From the browser\">"
        "<input name=\"project_id\" value=\"1\"><input name=\"status\" "
        "value=\"todo\"><input name=\"priority\" value=\"urgent\"></form>"
        "<script>document.forms[0].submit()</script>"));
    ASSERT_EQ(run("--virtual-time-budget=3000 --dump-dom file://" + submit, dom), 0);
    d = read_file(dom);
    EXPECT_TRUE(std::regex_search(d, std::regex(
        "id=\"err-priority\"[^>]*>Not one of: low, medium, high<")))
        << d.substr(0, 1500);
    EXPECT_TRUE(contains(d, "value=\"From the browser\"")) << d.substr(0, 1500);
    std::string form = std::string(BZ_TEST_OUTPUT_DIR) + "/bztasks-form-error.png";
    unlink(form.c_str());
    ASSERT_EQ(run("--virtual-time-budget=3000 --screenshot=" + form +
                  " --window-size=1200,1100 file://" + submit,
                  s.tmp().file("shot.out")), 0);
    EXPECT_GT(file_size(form), 10000) << form;

    std::string png = std::string(BZ_TEST_OUTPUT_DIR) + "/bztasks-dashboard.png";
    unlink(png.c_str());
    ASSERT_EQ(run("--screenshot=" + png + " --window-size=1200,900 " +
                  s.url("/"), s.tmp().file("shot.out")), 0);
    EXPECT_GT(file_size(png), 10000) << png;
    std::string head = read_file(png).substr(0, 8);
    EXPECT_EQ(head, std::string("\x89PNG\r\n\x1a\n", 8));
}
