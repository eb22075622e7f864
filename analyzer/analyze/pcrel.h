/*
 * pcrel.h - the instruction decoders shared by the reference graph
 * (refgraph.c) and the literal attribution (literals.c): a linear sweep
 * over Xtensa lx106 code with its l32r literal address, and one Thumb
 * instruction's length with the PC-relative load or branch it makes.
 * Static inline: both callers run them in their innermost loop.
 *
 * Xtensa (little-endian, code density option): op0 = bits 0..3 of the
 * first byte; op0 >= 8 is a 2-byte instruction, anything else 3 bytes.
 * l32r: op0 = 1, imm16 = bits 8..23; the literal is at
 * ((PC + 3) & ~3) + ((0xFFFF0000 | imm16) << 2) (32-bit arithmetic).
 * gas pads branch targets with zero bytes after an instruction that never
 * falls through (j, jx, ret, ret.n): up to 3 such bytes are skipped there.
 */
#ifndef FS_PCREL_H
#define FS_PCREL_H

#include <stdint.h>

/* Does this Xtensa instruction never fall through?  j, jx, ret, ret.n. */
static inline int fs_xt_jumps(uint32_t insn, unsigned len)
{
    if (len == 2)
        return insn == 0xf00d; /* ret.n */
    return ((insn & 0xf) == 6 && ((insn >> 4) & 3) == 0) || insn == 0x000080 || (insn & 0xfff0ff) == 0x0000a0;
}

/* A sweep over size bytes of Xtensa code at p. */
typedef struct fs_xt_walk {
    const uint8_t *p;
    uint64_t size, off;
    int jumped;   /* the previous instruction never falls through (1..3: filler bytes seen + 1) */
} fs_xt_walk;

/* The next instruction: 1 with its bits, length (2 or 3) and offset, or 0
 * at the end (an instruction cut by the end is not returned). */
static inline int fs_xt_next(fs_xt_walk *w, uint32_t *insn, unsigned *len, uint64_t *at)
{
    while (w->off < w->size) {
        const uint8_t *p = w->p + w->off;
        if (w->jumped && w->jumped < 4 && p[0] == 0) {
            w->off++; /* alignment filler after j/ret: never executed */
            w->jumped++;
            continue;
        }
        unsigned n = (p[0] & 0xf) >= 8 ? 2 : 3;
        if (w->off + n > w->size)
            return 0;
        uint32_t i = p[0] | (uint32_t)p[1] << 8 | (n == 3 ? (uint32_t)p[2] << 16 : 0);
        *insn = i, *len = n, *at = w->off;
        w->off += n;
        w->jumped = fs_xt_jumps(i, n);
        return 1;
    }
    return 0;
}

/* Is it an l32r?  Then *lit = the address of the word it loads. */
static inline int fs_xt_l32r(uint32_t insn, unsigned len, uint32_t pc, uint32_t *lit)
{
    if (len != 3 || (insn & 0xf) != 1)
        return 0;
    *lit = ((pc + 3) & ~3u) + ((0xffff0000u | (insn >> 8)) << 2);
    return 1;
}

static inline int32_t fs_sext32(uint32_t v, unsigned bits)
{
    uint32_t m = 1u << (bits - 1);
    return (int32_t)((v ^ m) - m);
}

/* What one Thumb instruction does, as far as references go. */
typedef enum {
    FS_THUMB_OTHER = 0,
    FS_THUMB_LOAD,     /* a PC-relative load: target = the literal, width its bytes */
    FS_THUMB_BRANCH,   /* b, b<c>, b.w, b<c>.w: target */
    FS_THUMB_CALL      /* bl, blx (immediate): target */
} fs_thumb_kind;

typedef struct fs_thumb_insn {
    unsigned len;        /* 2 or 4 */
    fs_thumb_kind kind;
    uint64_t target;
    unsigned width;      /* FS_THUMB_LOAD: 4 (ldr, ldr.w, vldr.32) or 8 (ldrd, vldr.64) */
    int word;            /* FS_THUMB_LOAD: an ldr of a 32-bit word (its value may be an address) */
} fs_thumb_insn;

/* Decode the Thumb instruction at pc whose first halfword is h1 (h2 the
 * next one; have2 = 0 when there is none).  Recognised: ldr rt, [pc, #imm8];
 * ldr.w rt, [pc, #+-imm12]; ldrd and vldr with a PC base; b, b<c>, b.w,
 * b<c>.w, bl, blx.  Everything else is FS_THUMB_OTHER with its length. */
static inline void fs_thumb_decode(uint32_t h1, uint32_t h2, int have2, uint64_t pc, fs_thumb_insn *o)
{
    uint64_t base = (pc + 4) & ~(uint64_t)3;
    *o = (fs_thumb_insn){.len = 2};
    if ((h1 >> 11) < 0x1d) { /* 16-bit */
        if ((h1 & 0xf800) == 0x4800) { /* ldr rt, [pc, #imm8 * 4] */
            *o = (fs_thumb_insn){2, FS_THUMB_LOAD, base + (h1 & 0xff) * 4, 4, 1};
        } else if ((h1 & 0xf800) == 0xe000) { /* b */
            *o = (fs_thumb_insn){2, FS_THUMB_BRANCH, pc + 4 + (uint64_t)(int64_t)fs_sext32((h1 & 0x7ff) << 1, 12), 0, 0};
        } else if ((h1 & 0xf000) == 0xd000 && ((h1 >> 8) & 0xf) < 0xe) { /* b<c> */
            *o = (fs_thumb_insn){2, FS_THUMB_BRANCH, pc + 4 + (uint64_t)(int64_t)fs_sext32((h1 & 0xff) << 1, 9), 0, 0};
        }
        return;
    }
    if (!have2)
        return;
    o->len = 4;
    if ((h1 & 0xf800) == 0xf000 && (h2 & 0x8000)) {
        uint32_t sgn = (h1 >> 10) & 1, j1 = (h2 >> 13) & 1, j2 = (h2 >> 11) & 1;
        unsigned op = h2 & 0xd000;
        if (op == 0x8000) { /* b<c>.w */
            if (((h1 >> 6) & 0xf) >= 0xe)
                return; /* not a branch (msr, mrs, hints, ...) */
            uint32_t imm = sgn << 20 | j2 << 19 | j1 << 18 | (h1 & 0x3f) << 12 | (h2 & 0x7ff) << 1;
            *o = (fs_thumb_insn){4, FS_THUMB_BRANCH, pc + 4 + (uint64_t)(int64_t)fs_sext32(imm, 21), 0, 0};
            return;
        }
        uint32_t i1 = !(j1 ^ sgn), i2 = !(j2 ^ sgn);
        uint32_t imm = sgn << 24 | i1 << 23 | i2 << 22 | (h1 & 0x3ff) << 12 | (h2 & 0x7ff) << 1;
        int64_t off = fs_sext32(imm, 25);
        if (op == 0xc000) /* blx: to ARM code */
            *o = (fs_thumb_insn){4, FS_THUMB_CALL, (uint64_t)((int64_t)base + off) & ~(uint64_t)3, 0, 0};
        else
            *o = (fs_thumb_insn){4, op == 0xd000 ? FS_THUMB_CALL : FS_THUMB_BRANCH, (uint64_t)((int64_t)(pc + 4) + off),
                                 0, 0};
    } else if ((h1 & 0xff7f) == 0xf85f) { /* ldr.w rt, [pc, #+-imm12] */
        uint64_t imm = h2 & 0xfff;
        *o = (fs_thumb_insn){4, FS_THUMB_LOAD, h1 & 0x80 ? base + imm : base - imm, 4, 1};
    } else if ((h1 & 0xfe7f) == 0xe85f || (h1 & 0xff3f) == 0xed1f) { /* ldrd, vldr literal */
        uint64_t imm = (h2 & 0xff) * 4;
        unsigned width = (h1 & 0xff3f) == 0xed1f && ((h2 >> 8) & 0xf) == 0xa ? 4 : 8;
        *o = (fs_thumb_insn){4, FS_THUMB_LOAD, h1 & 0x80 ? base + imm : base - imm, width, 0};
    }
}

#endif
