/*
 * findings.c - the report's findings: appending one (with its message,
 * remedy and numbers) and the worst severity.  Every analysis adds its
 * findings through these (analyze.c, esp8266.c), so they live apart from
 * the pipeline that calls the analyses.
 */
#include "analyze.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fs_severity_name(fs_severity s)
{
    switch (s) {
    case FS_SEV_ERROR: return "error";
    case FS_SEV_WARNING: return "warning";
    default: return "info";
    }
}

static char *analyze_vformat(const char *fmt, va_list ap)
{
    char *out = NULL;
    if (vasprintf(&out, fmt, ap) < 0)
        return NULL;
    return out;
}

int fs_report_add(fs_report *rep, const char *id, fs_severity sev, const char *subject, const char *remedy,
                  const char *fmt, ...)
{
    fs_finding *grown = realloc(rep->findings, (rep->nfindings + 1) * sizeof *grown);
    if (!grown)
        return -1;
    rep->findings = grown;
    fs_finding *f = &rep->findings[rep->nfindings];
    memset(f, 0, sizeof *f);
    va_list ap;
    va_start(ap, fmt);
    f->message = analyze_vformat(fmt, ap);
    va_end(ap);
    f->id = id;
    f->severity = sev;
    f->subject = subject ? strdup(subject) : NULL;
    f->remedy = remedy ? strdup(remedy) : NULL;
    rep->nfindings++;
    if (!f->message || (subject && !f->subject) || (remedy && !f->remedy))
        return -1;
    return 0;
}

void fs_finding_num(fs_report *rep, const char *key, uint64_t value)
{
    fs_finding *f = &rep->findings[rep->nfindings - 1];
    if (f->nnums < FS_FINDING_MAX_NUMS)
        f->nums[f->nnums++] = (fs_num){key, value};
}

int fs_report_worst(const fs_report *rep)
{
    int worst = -1;
    for (size_t i = 0; i < rep->nfindings; i++)
        if ((int)rep->findings[i].severity > worst)
            worst = (int)rep->findings[i].severity;
    return worst;
}
