// libedit, named explicitly: Debian also ships GNU readline's <readline/readline.h>,
// whose declarations differ.
#include <stdio.h>
#include <editline/readline.h>
#include <histedit.h>
