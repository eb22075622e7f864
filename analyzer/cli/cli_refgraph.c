/*
 * cli_refgraph.c - what why, top and cut share: load the ELF, the board's
 * roots file and the --root names, and build the reference graph.  Apart
 * from cli.c because it needs Capstone (refgraph.c), which the light
 * `flashsize` binary does not link: only flashsize-full has it.
 */
#include "board.h"
#include "cli.h"
#include "elfread.h"
#include "refgraph.h"

#include <stdlib.h>
#include <string.h>

int cli_refgraph_open(const char *elf, const char *const *roots, size_t nroots, const char *board,
                      const char *rules_dir, fs_image *img, fs_refgraph *g)
{
    fs_error err = {{0}};
    char **soft = NULL;
    size_t nsoft = 0;
    char *dir = rules_dir ? strdup(rules_dir) : fs_rules_dir();
    int rc = fs_refgraph_board_roots(dir, board, &soft, &nsoft, &err);
    free(dir);
    if (rc == 0)
        rc = fs_elf_load(elf, img, &err);
    if (rc == 0) {
        fs_refgraph_opts o = {roots, nroots, (const char *const *)soft, nsoft};
        rc = fs_refgraph_build_file(img, &o, g, &err);
    }
    fs_refgraph_names_free(soft, nsoft);
    if (rc < 0) {
        cli_error("%s", err.msg);
        fs_image_free(img);
        return FS_EXIT_INPUT;
    }
    return FS_EXIT_OK;
}
