/*
 * argv_split.c - turns a site's `build` value into an argv.
 *
 * The build command is run with execvp, never through a shell, so that a
 * config value cannot smuggle in expansions, redirections or a second
 * command.  Quoting is still needed for arguments with blanks; this is the
 * small, predictable subset of sh(1) quoting documented in config.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

enum split_state { SP_BLANK, SP_WORD, SP_SQUOTE, SP_DQUOTE };

struct splitter {
	enum split_state st;
	char *word; /* as long as the input, so a word always fits */
	size_t wlen;
	char **argv;
	size_t argc, cap;
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int end_word(struct splitter *sp)
{
	char *w;

	/* One slot is always kept free for the terminating NULL. */
	if (sp->argc + 2 > sp->cap) {
		size_t ncap = sp->cap ? sp->cap * 2 : 8;
		char **n = realloc(sp->argv, ncap * sizeof(*n));
		if (n == NULL)
			return -1;
		sp->argv = n;
		sp->cap = ncap;
		sp->argv[sp->argc] = NULL;
	}
	w = malloc(sp->wlen + 1);
	if (w == NULL)
		return -1;
	memcpy(w, sp->word, sp->wlen);
	w[sp->wlen] = '\0';
	sp->argv[sp->argc++] = w;
	sp->argv[sp->argc] = NULL;
	sp->wlen = 0;
	sp->st = SP_BLANK;
	return 0;
}

/*
 * Consumes one character (two for an escape) at *pp and returns NULL, or
 * the reason the input cannot be split.
 */
static const char *step(struct splitter *sp, const char **pp)
{
	const char *p = *pp;
	char c = *p++;

	switch (sp->st) {
	case SP_SQUOTE:
		if (c == '\'')
			sp->st = SP_WORD;
		else
			sp->word[sp->wlen++] = c;
		break;
	case SP_DQUOTE:
		if (c == '"')
			sp->st = SP_WORD;
		else if (c == '\\' && (*p == '"' || *p == '\\'))
			sp->word[sp->wlen++] = *p++;
		else
			sp->word[sp->wlen++] = c;
		break;
	case SP_BLANK:
	case SP_WORD:
		if (is_blank(c)) {
			if (sp->st == SP_WORD && end_word(sp) < 0)
				return "out of memory";
			break;
		}
		sp->st = SP_WORD;
		if (c == '\'')
			sp->st = SP_SQUOTE;
		else if (c == '"')
			sp->st = SP_DQUOTE;
		else if (c != '\\')
			sp->word[sp->wlen++] = c;
		else if (*p == '\0')
			return "trailing backslash";
		else
			sp->word[sp->wlen++] = *p++;
		break;
	}
	*pp = p;
	return NULL;
}

static const char *split_all(struct splitter *sp, const char *s)
{
	const char *why = NULL;

	while (*s != '\0' && why == NULL)
		why = step(sp, &s);
	if (why != NULL)
		return why;
	if (sp->st == SP_SQUOTE || sp->st == SP_DQUOTE)
		return "unbalanced quote";
	if (sp->st == SP_WORD && end_word(sp) < 0)
		return "out of memory";
	return sp->argc == 0 ? "no words" : NULL;
}

char **argv_split(const char *s, const char **why)
{
	struct splitter sp;
	const char *reason;

	memset(&sp, 0, sizeof(sp));
	sp.word = malloc(strlen(s) + 1);
	reason = sp.word == NULL ? "out of memory" : split_all(&sp, s);
	free(sp.word);
	if (reason != NULL) {
		argv_free(sp.argv);
		if (why != NULL)
			*why = reason;
		return NULL;
	}
	return sp.argv;
}

void argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}
