/*
 * test_argv_split.c - argv_split: words, quotes, escapes and the inputs it
 * must refuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config.h"

/* Splits s and checks the words against the NULL-terminated want. */
static void expect_words(const char *s, const char *const *want)
{
	const char *why = NULL;
	char **argv = argv_split(s, &why);
	size_t i;

	if (argv == NULL)
		fail_msg("argv_split(\"%s\") failed: %s", s, why);
	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
	argv_free(argv);
}

static void expect_refused(const char *s, const char *reason)
{
	const char *why = NULL;

	assert_null(argv_split(s, &why));
	assert_non_null(why);
	assert_string_equal(why, reason);
}

static void test_simple_words(void **state)
{
	(void)state;
	expect_words("make", (const char *const[]){"make", NULL});
	expect_words("jekyll build --destination out",
	             (const char *const[]){"jekyll", "build", "--destination", "out", NULL});
	expect_words("  \tnpm   run\t\tbuild  ",
	             (const char *const[]){"npm", "run", "build", NULL});
	/* Nothing is expanded: no globs, variables or operators. */
	expect_words("echo $HOME *.c a;b |x",
	             (const char *const[]){"echo", "$HOME", "*.c", "a;b", "|x", NULL});
}

static void test_single_quotes(void **state)
{
	(void)state;
	expect_words("sh -c 'make && make install'",
	             (const char *const[]){"sh", "-c", "make && make install", NULL});
	expect_words("'a\\b' 'x\"y'", (const char *const[]){"a\\b", "x\"y", NULL});
	expect_words("''", (const char *const[]){"", NULL});
	expect_words("a'b c'd", (const char *const[]){"ab cd", NULL});
}

static void test_double_quotes(void **state)
{
	(void)state;
	expect_words("\"a b\" c", (const char *const[]){"a b", "c", NULL});
	expect_words("\"say \\\"hi\\\"\"", (const char *const[]){"say \"hi\"", NULL});
	expect_words("\"back\\\\slash\"", (const char *const[]){"back\\slash", NULL});
	/* Other backslashes inside "..." stay, as in sh. */
	expect_words("\"a\\nb\"", (const char *const[]){"a\\nb", NULL});
	expect_words("\"it's\" \"\"", (const char *const[]){"it's", "", NULL});
	expect_words("x\"y\"'z'", (const char *const[]){"xyz", NULL});
}

static void test_escapes(void **state)
{
	(void)state;
	expect_words("a\\ b c", (const char *const[]){"a b", "c", NULL});
	expect_words("\\'x\\' \\\"", (const char *const[]){"'x'", "\"", NULL});
	expect_words("a\\\\b", (const char *const[]){"a\\b", NULL});
	expect_words("\\n", (const char *const[]){"n", NULL});
}

static void test_refused(void **state)
{
	(void)state;
	expect_refused("", "no words");
	expect_refused(" \t ", "no words");
	expect_refused("sh -c 'make", "unbalanced quote");
	expect_refused("echo \"hi", "unbalanced quote");
	expect_refused("echo \"hi\\\"", "unbalanced quote");
	expect_refused("make \\", "trailing backslash");
}

static void test_many_words(void **state)
{
	char s[2048] = "";
	char **argv;
	size_t i;

	(void)state;
	for (i = 0; i < 300; i++)
		strcat(s, "w ");
	argv = argv_split(s, NULL);
	assert_non_null(argv);
	for (i = 0; i < 300; i++)
		assert_string_equal(argv[i], "w");
	assert_null(argv[300]);
	argv_free(argv);
	argv_free(NULL);
	assert_null(argv_split("'", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple_words),  cmocka_unit_test(test_single_quotes),
	    cmocka_unit_test(test_double_quotes), cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_refused),       cmocka_unit_test(test_many_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
