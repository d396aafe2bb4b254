/* The README's C example: compiled and run by the test suite. */
#include <bazoola.h>
#include <stdio.h>
#include <string.h>

static const char *SCHEMA =
    "authors: id PK, name CHAR(20)\n"
    "books: id PK, title CHAR(20), author_id FK(authors), year INT NULL\n";

static int fail(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, bz_errmsg());
    return 1;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "books-data";
    bz_schema *schema;
    bz_db *db;
    if (bz_schema_parse(SCHEMA, strlen(SCHEMA), &schema) != BZ_OK)
        return fail("schema");
    if (bz_open(dir, schema, NULL, &db) != BZ_OK)
        return fail("open");
    bz_schema_free(schema);

    bz_values *v = bz_values_new();
    bz_row *author, *book;
    bz_values_set_str(v, "name", "Frank Herbert");
    if (bz_insert(db, "authors", v, &author) != BZ_OK)
        return fail("insert author");
    bz_values_clear(v);
    bz_values_set_str(v, "title", "Dune");
    bz_values_set_int(v, "author_id", bz_row_id(author));
    bz_values_set_int(v, "year", 1965);
    if (bz_insert(db, "books", v, &book) != BZ_OK)
        return fail("insert book");

    /* Books whose title contains "dun", case-insensitively, with author. */
    bz_cond *c = bz_cond_new(BZ_ISUBSTR);
    bz_cond_add_str(c, "title", "dun");
    bz_joins *j = bz_joins_new();
    bz_joins_add(j, "author_id", "author", "authors");
    bz_rows *found;
    if (bz_find_by_cond(db, "books", c, j, &found) != BZ_OK)
        return fail("find");
    for (size_t i = 0; i < bz_rows_len(found); i++) {
        const bz_row *r = bz_rows_at(found, i);
        const bz_row *a = bz_row_row(r, (size_t)bz_row_find(r, "author"));
        printf("#%lld %s (%lld) by %s\n", (long long)bz_row_id(r),
               bz_row_str(r, (size_t)bz_row_find(r, "title"), NULL),
               (long long)bz_row_int(r, (size_t)bz_row_find(r, "year")),
               bz_row_str(a, (size_t)bz_row_find(a, "name"), NULL));
    }

    /* 0.0.7's errors, word for word. */
    bz_values_clear(v);
    bz_values_set_str(v, "title", "Orphan");
    bz_values_set_int(v, "author_id", 99);
    if (bz_insert(db, "books", v, NULL) == BZ_ECONSTRAINT)
        printf("refused: %s\n", bz_errmsg());

    bz_rows_free(found);
    bz_joins_free(j);
    bz_cond_free(c);
    bz_row_free(book);
    bz_row_free(author);
    bz_values_free(v);
    bz_close(db);
    return 0;
}
