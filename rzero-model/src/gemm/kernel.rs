//! Packed `c = a · b` on `f32` slices, GotoBLAS-style: `b` is copied into
//! `KC × NR` column panels and `a` into `MR × KC` row panels, so the inner
//! loop reads both contiguously whatever their strides (a transposed operand
//! costs nothing extra), and each `MR × NR` tile of `c` stays in registers
//! over `KC` steps.
//!
//! The tile loop is plain Rust compiled once per instruction set by
//! `#[target_feature]` wrappers (LLVM keeps the `MR × NR` accumulators in
//! vector registers): AVX-512 tiles of 12 × 32 (24 of 32 registers), AVX2 +
//! FMA tiles of 6 × 16, and 4 × 8 on the baseline target.

use std::cell::RefCell;
use std::mem::MaybeUninit;

use crate::small_matmul::kernel::Isa;

/// Depth of one packed panel: `KC × NR` floats of `b` (32 KiB at NR 32)
/// stay in L1 while the row panels of `a` stream past.
const KC: usize = 256;
/// Rows of `a` packed at once (`MC × KC`, 96 KiB, kept in L2); a multiple of
/// every `MR`.
const MC: usize = 192;

/// A read-only matrix view: element `(i, j)` is
/// `data[i * row_stride + j * col_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    /// The elements.
    pub data: &'a [f32],
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Distance between rows.
    pub row_stride: usize,
    /// Distance between columns.
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A contiguous row-major `[rows, cols]` matrix.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose, as a view (no copy).
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Whether every element's index lies inside `data`.
    pub(crate) fn in_bounds(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
        last < self.data.len()
    }

    /// Columns `start..start + len` as a view.
    pub(crate) fn cols_slice(self, start: usize, len: usize) -> Self {
        Self {
            data: &self.data[(start * self.col_stride).min(self.data.len())..],
            cols: len,
            ..self
        }
    }

    /// Rows `start..start + len` as a view.
    pub(crate) fn rows_slice(self, start: usize, len: usize) -> Self {
        Self {
            data: &self.data[(start * self.row_stride).min(self.data.len())..],
            rows: len,
            ..self
        }
    }
}

thread_local! {
    /// Packing buffers, reused across calls (a fresh multi-megabyte buffer
    /// per call would be page-faulted in every time).
    static PACKS: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// `c = a · b` (or `c += a · b` with `accumulate`), `c` row-major with
/// `ldc` floats between rows. Shapes are checked by the caller.
pub(crate) fn gemm(isa: Isa, a: MatRef<'_>, b: MatRef<'_>, c: &mut [f32], ldc: usize, acc: bool) {
    gemm_out(isa, a, b, Out::of(c), ldc, acc);
}

/// `c = a · b` into memory never written before: every element of the
/// `[a.rows, b.cols]` block (row distance `ldc`) is written, none read. A
/// new output buffer needs no zeroing first (the zeroing of reused heap
/// memory was 6 % of a scoring forward).
pub(crate) fn gemm_uninit(
    isa: Isa,
    a: MatRef<'_>,
    b: MatRef<'_>,
    c: &mut [MaybeUninit<f32>],
    ldc: usize,
) {
    gemm_out(isa, a, b, Out::of_uninit(c), ldc, false);
}

/// [`gemm`] (`ldc = b.cols`, no accumulation) with `b`'s columns cut into
/// blocks of `block` (a multiple of every `NR`) over rayon's threads: each
/// thread packs only its block of `b`. For a product with fewer rows than
/// columns (a backward's `xᵀ · dy`, `k` the tokens), splitting the rows
/// made every thread pack all of `b`. Every element is computed by the same
/// code either way.
pub(crate) fn gemm_cols(isa: Isa, a: MatRef<'_>, b: MatRef<'_>, c: &mut [f32], block: usize) {
    split_cols(isa, a, b, Out::of(c), block);
}

/// [`gemm_cols`] into memory never written before, as [`gemm_uninit`].
pub(crate) fn gemm_uninit_cols(
    isa: Isa,
    a: MatRef<'_>,
    b: MatRef<'_>,
    c: &mut [MaybeUninit<f32>],
    block: usize,
) {
    split_cols(isa, a, b, Out::of_uninit(c), block);
}

fn split_cols(isa: Isa, a: MatRef<'_>, b: MatRef<'_>, c: Out<'_>, block: usize) {
    use rayon::prelude::*;
    let n = b.cols;
    assert!(
        a.rows == 0 || (a.rows - 1) * n + n <= c.len,
        "gemm: c too short"
    );
    (0..n.div_ceil(block.max(1))).into_par_iter().for_each(|j| {
        let j0 = j * block;
        let cols = b.cols_slice(j0, block.min(n - j0));
        gemm_out(isa, a, cols, c.offset(j0), n, false);
    });
}

/// Where the kernel writes `c`: a raw view, so that the same loops fill
/// initialised memory and memory not yet written. The loops write every
/// element of the block before reading it (a read continues what an earlier
/// `KC` pass wrote, or what the caller's `accumulate` asked for, which
/// only [`gemm`] allows).
#[derive(Clone, Copy)]
struct Out<'a> {
    ptr: *mut f32,
    len: usize,
    _borrow: std::marker::PhantomData<&'a mut [f32]>,
}

// SAFETY: an `Out` is a view of a `&mut [f32]` it borrows; the threads of
// `split_cols` each write their own columns of it, no element twice.
#[expect(unsafe_code, reason = "threads write disjoint columns of one view")]
unsafe impl Send for Out<'_> {}
// SAFETY: as for `Send`.
#[expect(unsafe_code, reason = "threads write disjoint columns of one view")]
unsafe impl Sync for Out<'_> {}

#[expect(unsafe_code, reason = "writes through a checked raw view")]
impl<'a> Out<'a> {
    fn of(c: &'a mut [f32]) -> Self {
        Self {
            ptr: c.as_mut_ptr(),
            len: c.len(),
            _borrow: std::marker::PhantomData,
        }
    }

    fn of_uninit(c: &'a mut [MaybeUninit<f32>]) -> Self {
        Self {
            ptr: c.as_mut_ptr().cast(),
            len: c.len(),
            _borrow: std::marker::PhantomData,
        }
    }

    /// `c[at..at + v.len()] = v`.
    #[inline(always)]
    fn write(self, at: usize, v: &[f32]) {
        assert!(at + v.len() <= self.len, "gemm: write past c");
        // SAFETY: in bounds by the assertion; `v` is not inside `c`.
        unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), self.ptr.add(at), v.len()) }
    }

    /// `v = c[at..at + v.len()]`, on elements already written.
    #[inline(always)]
    fn read(self, at: usize, v: &mut [f32]) {
        assert!(at + v.len() <= self.len, "gemm: read past c");
        // SAFETY: in bounds by the assertion, and initialised (see the type).
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.add(at), v.as_mut_ptr(), v.len()) }
    }

    /// The start of the `rows × cols` block at the view's start, rows
    /// `ldc` apart, checked to lie inside `c`.
    #[inline(always)]
    fn block(self, rows: usize, cols: usize, ldc: usize) -> *mut f32 {
        assert!(
            rows == 0 || (rows - 1) * ldc + cols <= self.len,
            "gemm: tile past c"
        );
        self.ptr
    }

    /// Asks the cache, for writing, for the lines of the `rows × NR` block
    /// at `at` (rows `ldc` apart): the next tile's part of `c`. A fresh
    /// output is cold, and its tile rows lie too far apart for the hardware
    /// prefetchers: each tile's stores waited on memory, a third of the
    /// time of a training forward's `[2032 × 256] · [256 × 768]`.
    #[inline(always)]
    fn prefetch<const NR: usize>(self, at: usize, rows: usize, ldc: usize) {
        #[cfg(target_arch = "x86_64")]
        for r in 0..rows {
            let row = self.ptr.wrapping_add(at + r * ldc);
            // A row of `NR` floats spans at most `NR / 16 + 1` lines.
            for off in (0..NR).step_by(16).chain([NR - 1]) {
                let line = row.wrapping_add(off).cast::<i8>().cast_const();
                // SAFETY: a prefetch never faults, whatever the address.
                #[expect(unsafe_code, reason = "a cache hint")]
                unsafe {
                    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_ET0 }>(line)
                };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (at, rows, ldc);
    }

    /// `c[at..at + len] = 0`.
    fn zero(self, at: usize, len: usize) {
        assert!(at + len <= self.len, "gemm: write past c");
        // SAFETY: in bounds by the assertion.
        unsafe { std::ptr::write_bytes(self.ptr.add(at), 0, len) }
    }

    /// The view from element `at` on.
    #[inline(always)]
    fn offset(self, at: usize) -> Self {
        assert!(at <= self.len, "gemm: write past c");
        Self {
            // SAFETY: at most one past the end, by the assertion.
            ptr: unsafe { self.ptr.add(at) },
            len: self.len - at,
            _borrow: std::marker::PhantomData,
        }
    }
}

fn gemm_out(isa: Isa, a: MatRef<'_>, b: MatRef<'_>, c: Out<'_>, ldc: usize, acc: bool) {
    let isa = if isa.is_available() { isa } else { Isa::Scalar };
    PACKS.with_borrow_mut(|(pa, pb)| match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            // SAFETY: `is_available` checked that the CPU has AVX-512F.
            #[expect(
                unsafe_code,
                reason = "calling a target_feature function after detection"
            )]
            unsafe {
                gemm_avx512(a, b, c, ldc, acc, (pa, pb))
            }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => {
            // SAFETY: `is_available` checked that the CPU has AVX2 and FMA.
            #[expect(
                unsafe_code,
                reason = "calling a target_feature function after detection"
            )]
            unsafe {
                gemm_avx2(a, b, c, ldc, acc, (pa, pb))
            }
        }
        _ => blocked::<4, 8, false>(a, b, c, ldc, acc, (pa, pb)),
    });
}

type Packs<'a> = (&'a mut Vec<f32>, &'a mut Vec<f32>);

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
fn gemm_avx512(a: MatRef<'_>, b: MatRef<'_>, c: Out<'_>, ldc: usize, acc: bool, p: Packs) {
    blocked::<12, 32, true>(a, b, c, ldc, acc, p);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn gemm_avx2(a: MatRef<'_>, b: MatRef<'_>, c: Out<'_>, ldc: usize, acc: bool, p: Packs) {
    blocked::<6, 16, true>(a, b, c, ldc, acc, p);
}

/// The blocked loops: `KC` slices of the inner dimension, `MC` row blocks,
/// then every `MR × NR` tile.
#[inline(always)]
fn blocked<const MR: usize, const NR: usize, const FMA: bool>(
    a: MatRef<'_>,
    b: MatRef<'_>,
    c: Out<'_>,
    ldc: usize,
    accumulate: bool,
    (pa, pb): Packs,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                c.zero(i * ldc, n);
            }
        }
        return;
    }
    let panels = n.div_ceil(NR);
    for pc in (0..k).step_by(KC) {
        let kc = KC.min(k - pc);
        pack_b::<NR>(b, pc, kc, pb);
        for ic in (0..m).step_by(MC) {
            let mc = MC.min(m - ic);
            let direct = reads_a_in_place::<MR, NR, FMA>(a);
            if !direct {
                pack_a::<MR>(a, ic, mc, pc, kc, pa);
            }
            for jp in 0..panels {
                let bp = &pb[jp * kc * NR..(jp + 1) * kc * NR];
                let cols = NR.min(n - jp * NR);
                let tiles = mc.div_ceil(MR);
                for ip in 0..tiles {
                    let rows = MR.min(mc - ip * MR);
                    let at = (ic + ip * MR) * ldc + jp * NR;
                    if FMA {
                        // The next tile: down the rows, then the next panel.
                        let next = if ip + 1 < tiles {
                            at + MR * ldc
                        } else {
                            ic * ldc + (jp + 1) * NR
                        };
                        c.prefetch::<NR>(next, MR, ldc);
                    }
                    let tile = Tile {
                        rows,
                        cols,
                        ldc,
                        add: accumulate || pc > 0,
                    };
                    if direct {
                        let start = (ic + ip * MR) * a.row_stride + pc;
                        let rows_a = RowsRef {
                            data: &a.data[start..],
                            stride: a.row_stride,
                            rows,
                        };
                        micro_direct::<MR>(rows_a, bp, c.offset(at), tile);
                    } else {
                        let ap = &pa[ip * kc * MR..(ip + 1) * kc * MR];
                        micro::<MR, NR, FMA>(ap, bp, c.offset(at), tile);
                    }
                }
            }
        }
    }
}

/// `b[pc..pc + kc, ..]` as `NR`-column panels, each `kc × NR` row-major,
/// the last zero-padded.
#[inline(always)]
fn pack_b<const NR: usize>(b: MatRef<'_>, pc: usize, kc: usize, out: &mut Vec<f32>) {
    let panels = b.cols.div_ceil(NR);
    let out = reuse(out, panels * kc * NR);
    for (jp, panel) in out.chunks_exact_mut(kc * NR).enumerate() {
        let j0 = jp * NR;
        let width = NR.min(b.cols - j0);
        if width < NR {
            panel.fill(0.0);
        }
        if b.col_stride == 1 {
            // Row-major: copy row segments (fixed-size copies when whole:
            // a `memcpy` call per 128 bytes cost 5 % of a train step).
            for (p, row) in panel.chunks_exact_mut(NR).enumerate() {
                let base = (pc + p) * b.row_stride + j0;
                copy_run::<NR>(&mut row[..width], &b.data[base..base + width]);
            }
        } else if b.row_stride == 1 {
            // A transposed row-major matrix: each column is contiguous.
            for j in 0..width {
                let base = (j0 + j) * b.col_stride + pc;
                for (row, &v) in panel.chunks_exact_mut(NR).zip(&b.data[base..base + kc]) {
                    row[j] = v;
                }
            }
        } else {
            for (p, row) in panel.chunks_exact_mut(NR).enumerate() {
                for (j, v) in row[..width].iter_mut().enumerate() {
                    *v = b.data[(pc + p) * b.row_stride + (j0 + j) * b.col_stride];
                }
            }
        }
    }
}

/// The first `len` floats of a reused pack buffer, grown if needed. Not
/// zeroed: every packer writes each element or zero-fills a padded panel
/// (clearing the whole buffer per call cost 3 % of a train step).
#[inline(always)]
fn reuse(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    &mut buf[..len]
}

/// `dst = src` for slices of equal length, as one fixed-size copy when the
/// length is `N`.
#[inline(always)]
fn copy_run<const N: usize>(dst: &mut [f32], src: &[f32]) {
    match (
        <&mut [f32; N]>::try_from(&mut *dst),
        <&[f32; N]>::try_from(src),
    ) {
        (Ok(d), Ok(s)) => *d = *s,
        _ => dst.copy_from_slice(src),
    }
}

/// `a[ic..ic + mc, pc..pc + kc]` as `MR`-row panels, each `kc × MR`
/// (column `p` of the panel's rows together), the last zero-padded.
#[inline(always)]
fn pack_a<const MR: usize>(
    a: MatRef<'_>,
    ic: usize,
    mc: usize,
    pc: usize,
    kc: usize,
    out: &mut Vec<f32>,
) {
    let panels = mc.div_ceil(MR);
    let out = reuse(out, panels * kc * MR);
    if a.row_stride == 1 {
        // A transposed row-major matrix (a backward's `xᵀ`): column `p`'s
        // rows are contiguous, so each is read once, in order, and dealt
        // out to the panels (panel by panel, each 48-byte run started a
        // fresh row: 6 % of a training step's matmul).
        let tail = mc % MR;
        if tail > 0 {
            out[(panels - 1) * kc * MR..].fill(0.0);
        }
        for p in 0..kc {
            let base = (pc + p) * a.col_stride + ic;
            let column = &a.data[base..base + mc];
            for (ip, run) in column.chunks(MR).enumerate() {
                let at = ip * kc * MR + p * MR;
                copy_run::<MR>(&mut out[at..at + run.len()], run);
            }
        }
        return;
    }
    for (ip, panel) in out.chunks_exact_mut(kc * MR).enumerate() {
        let i0 = ic + ip * MR;
        let height = MR.min(ic + mc - i0);
        if height < MR {
            panel.fill(0.0);
        }
        if a.col_stride == 1 {
            for r in 0..height {
                let base = (i0 + r) * a.row_stride + pc;
                for (dst, &v) in panel.chunks_exact_mut(MR).zip(&a.data[base..base + kc]) {
                    dst[r] = v;
                }
            }
        } else {
            for r in 0..height {
                for (p, dst) in panel.chunks_exact_mut(MR).enumerate() {
                    dst[r] = a.data[(i0 + r) * a.row_stride + (pc + p) * a.col_stride];
                }
            }
        }
    }
}

/// Whether the tiles read `a` where it lies instead of packing it: a
/// row-major `a` under the SIMD tiles (packing its rows cost a tenth of a
/// scoring forward under AVX2, and LLVM turned the AVX-512 packing into
/// scatters, 15 % of the matmul; each tile row is one contiguous stream
/// anyway).
#[inline(always)]
fn reads_a_in_place<const MR: usize, const NR: usize, const FMA: bool>(a: MatRef<'_>) -> bool {
    cfg!(target_arch = "x86_64")
        && FMA
        && ((MR == 6 && NR == 16) || (MR == 12 && NR == 32))
        && a.col_stride == 1
}

/// A tile's rows of a row-major `a`, read in place: row `r` starts at
/// `data[r · stride]`; only `rows` of them are valid.
#[derive(Clone, Copy)]
struct RowsRef<'a> {
    data: &'a [f32],
    stride: usize,
    rows: usize,
}

/// Runs a SIMD tile with `$dst`, `$ld` bound to where it reads (when it
/// adds) and writes its sums: `c` itself when the tile is whole (each
/// register goes straight to its row: copying through a scratch tile and
/// `memcpy` was a fifth of a `KC = 128` product), else a scratch tile that
/// [`start`] and [`store`] copy the valid part of `c` into and out of.
/// A macro, not a closure, so the tile inlines into the
/// `#[target_feature]` function.
#[cfg(target_arch = "x86_64")]
macro_rules! into_c {
    ($mr:literal, $nr:literal, $c:expr, $tile:expr, |$dst:ident, $ld:ident| $run:expr) => {{
        let (c, tile): (Out<'_>, Tile) = ($c, $tile);
        if tile.rows == $mr && tile.cols == $nr {
            let ($dst, $ld) = (c.block($mr, $nr, tile.ldc), tile.ldc);
            $run
        } else {
            let mut scratch = [0.0f32; $mr * $nr];
            if tile.add {
                start::<$nr>(&mut scratch, c, tile);
            }
            let ($dst, $ld) = (scratch.as_mut_ptr(), $nr);
            $run;
            store::<$nr>(&scratch, c, tile);
        }
    }};
}

/// One 6 × 16 or 12 × 32 tile over rows of `a` read in place (see
/// [`reads_a_in_place`]) and a packed column panel `b` (`kc × NR`).
#[inline(always)]
#[cfg_attr(
    target_arch = "x86_64",
    expect(unsafe_code, reason = "SIMD tiles on a checked block of c")
)]
fn micro_direct<const MR: usize>(a: RowsRef<'_>, b: &[f32], c: Out<'_>, tile: Tile) {
    #[cfg(target_arch = "x86_64")]
    {
        use simd::{tile_6x16_in_place as t6, tile_12x32_in_place as t12};
        let RowsRef { data, stride, rows } = a;
        // SAFETY (each call): `into_c` gives a block of `MR` rows of `NR`
        // floats, `ld` apart, inside `c` or the scratch tile; the caller
        // runs with the tile's instruction set enabled.
        match (MR, tile.add) {
            (12, true) => into_c!(12, 32, c, tile, |d, ld| unsafe {
                t12::<true>(data, stride, rows, b, d, ld)
            }),
            (12, false) => into_c!(12, 32, c, tile, |d, ld| unsafe {
                t12::<false>(data, stride, rows, b, d, ld)
            }),
            (_, true) => into_c!(6, 16, c, tile, |d, ld| unsafe {
                t6::<true>(data, stride, rows, b, d, ld)
            }),
            (_, false) => into_c!(6, 16, c, tile, |d, ld| unsafe {
                t6::<false>(data, stride, rows, b, d, ld)
            }),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (a, b, c, tile);
}

/// Where a tile goes: its valid rows and columns, `c`'s row distance, and
/// whether it adds to `c` or overwrites it.
#[derive(Clone, Copy)]
struct Tile {
    rows: usize,
    cols: usize,
    ldc: usize,
    add: bool,
}

/// One `MR × NR` tile over a packed row panel `a` (`kc × MR`) and column
/// panel `b` (`kc × NR`), written to `c`.
#[inline(always)]
#[cfg_attr(
    target_arch = "x86_64",
    expect(unsafe_code, reason = "SIMD tiles on a checked block of c")
)]
fn micro<const MR: usize, const NR: usize, const FMA: bool>(
    a: &[f32],
    b: &[f32],
    c: Out<'_>,
    tile: Tile,
) {
    #[cfg(target_arch = "x86_64")]
    {
        use simd::{tile_6x16 as t6, tile_12x32 as t12};
        // SAFETY (each call): as in `micro_direct`.
        match (MR, NR, FMA, tile.add) {
            (12, 32, true, true) => {
                return into_c!(12, 32, c, tile, |d, ld| unsafe { t12::<true>(a, b, d, ld) });
            }
            (12, 32, true, false) => {
                return into_c!(12, 32, c, tile, |d, ld| unsafe {
                    t12::<false>(a, b, d, ld)
                });
            }
            (6, 16, true, true) => {
                return into_c!(6, 16, c, tile, |d, ld| unsafe { t6::<true>(a, b, d, ld) });
            }
            (6, 16, true, false) => {
                return into_c!(6, 16, c, tile, |d, ld| unsafe { t6::<false>(a, b, d, ld) });
            }
            _ => {}
        }
    }
    let mut acc = [[0.0f32; NR]; MR];
    if tile.add {
        start::<NR>(acc.as_flattened_mut(), c, tile);
    }
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for (acc_row, &ai) in acc.iter_mut().zip(ap) {
            for (x, &bv) in acc_row.iter_mut().zip(bp) {
                // Without FMA in the target, `mul_add` would be a libm call.
                *x = if FMA {
                    ai.mul_add(bv, *x)
                } else {
                    *x + ai * bv
                };
            }
        }
    }
    store::<NR>(acc.as_flattened(), c, tile);
}

/// Copies the valid part of `c` into a tile that adds to it (a tile that
/// does not starts from zero). Each element's sum is then one chain of multiply-adds
/// over the whole inner dimension, `KC` slices and all, so a row's result
/// does not depend on how many rows the product has, nor on whether the
/// small-row kernel (the same chain) computed it: a sampled row's log-probs
/// are the same bits whatever batch it was decoded in.
#[inline(always)]
fn start<const NR: usize>(acc: &mut [f32], c: Out<'_>, tile: Tile) {
    for (i, row) in acc.chunks_exact_mut(NR).enumerate().take(tile.rows) {
        c.read(i * tile.ldc, &mut row[..tile.cols]);
    }
}

/// Writes the valid part of a row-major `? × NR` tile to `c`.
#[inline(always)]
fn store<const NR: usize>(acc: &[f32], c: Out<'_>, tile: Tile) {
    for (i, acc_row) in acc.chunks_exact(NR).enumerate().take(tile.rows) {
        c.write(i * tile.ldc, &acc_row[..tile.cols]);
    }
}

/// The register tiles, written with intrinsics: LLVM does not keep a
/// `[[f32; 32]; 12]` array in registers on its own (5 GFLOP/s measured).
/// Each reads (`LOAD`) and writes its sums at `c`, rows `ldc` apart.
#[cfg(target_arch = "x86_64")]
#[expect(unsafe_code, reason = "SIMD intrinsics on checked slices")]
mod simd {
    use std::arch::x86_64::*;

    /// `c (12 × 32) += Σ_p a[p] ⊗ b[p]` over `a` `kc × 12`, `b` `kc × 32`
    /// (`c` starts from zero without `LOAD`).
    ///
    /// # Safety
    /// `c` is valid for reads and writes of 12 rows of 32 floats, `ldc`
    /// apart; the CPU has AVX-512F.
    #[inline(always)]
    pub(super) unsafe fn tile_12x32<const LOAD: bool>(
        a: &[f32],
        b: &[f32],
        c: *mut f32,
        ldc: usize,
    ) {
        let kc = (a.len() / 12).min(b.len() / 32);
        // SAFETY: every read is inside `a[..12 kc]` and `b[..32 kc]`; `c`
        // as the caller promises.
        unsafe {
            let mut acc = load_12x32::<LOAD>(c, ldc);
            let (mut pa, mut pb) = (a.as_ptr(), b.as_ptr());
            for _ in 0..kc {
                let b0 = _mm512_loadu_ps(pb);
                let b1 = _mm512_loadu_ps(pb.add(16));
                for (r, row) in acc.iter_mut().enumerate() {
                    let ar = _mm512_set1_ps(*pa.add(r));
                    row[0] = _mm512_fmadd_ps(ar, b0, row[0]);
                    row[1] = _mm512_fmadd_ps(ar, b1, row[1]);
                }
                pa = pa.add(12);
                pb = pb.add(32);
            }
            store_12x32(&acc, c, ldc);
        }
    }

    /// `c (12 × 32) += Σ_p a_p ⊗ b[p]` over `b` `kc × 32` and column `p`
    /// of `a`'s rows read in place, as [`tile_6x16_in_place`].
    ///
    /// # Safety
    /// As [`tile_12x32`].
    #[inline(always)]
    pub(super) unsafe fn tile_12x32_in_place<const LOAD: bool>(
        a: &[f32],
        lda: usize,
        rows: usize,
        b: &[f32],
        c: *mut f32,
        ldc: usize,
    ) {
        let kc = b.len() / 32;
        let rows = rows_in_place::<12>(a, lda, rows, kc);
        // SAFETY: `rows_in_place` checked that row `r` has `kc` floats;
        // `b` reads stay inside `b[..32 kc]`; `c` as the caller promises.
        unsafe {
            let mut acc = load_12x32::<LOAD>(c, ldc);
            let mut pb = b.as_ptr();
            for p in 0..kc {
                let b0 = _mm512_loadu_ps(pb);
                let b1 = _mm512_loadu_ps(pb.add(16));
                for (row, &ptr) in acc.iter_mut().zip(&rows) {
                    let ar = _mm512_set1_ps(*ptr.add(p));
                    row[0] = _mm512_fmadd_ps(ar, b0, row[0]);
                    row[1] = _mm512_fmadd_ps(ar, b1, row[1]);
                }
                pb = pb.add(32);
            }
            store_12x32(&acc, c, ldc);
        }
    }

    /// Pointers to the `MR` rows of `a` a tile reads in place: row `r` is
    /// `a[r · lda..][..kc]`; rows from `rows` on repeat row `rows − 1`
    /// (their sums are not stored).
    #[inline(always)]
    fn rows_in_place<const MR: usize>(
        a: &[f32],
        lda: usize,
        rows: usize,
        kc: usize,
    ) -> [*const f32; MR] {
        let last = rows.clamp(1, MR) - 1;
        assert!(
            last * lda + kc <= a.len(),
            "gemm: a's rows reach past its data"
        );
        std::array::from_fn(|r| a[r.min(last) * lda..].as_ptr())
    }

    /// `c`'s 12 × 32 block (or zeros) as 12 × 2 registers.
    #[inline(always)]
    unsafe fn load_12x32<const LOAD: bool>(c: *const f32, ldc: usize) -> [[__m512; 2]; 12] {
        // SAFETY: the callers pass their own promise about `c`.
        unsafe {
            let mut acc = [[_mm512_setzero_ps(); 2]; 12];
            if LOAD {
                // Loaded one register at a time: through a closure or
                // `array::from_fn` the accumulators stayed on the stack.
                for (r, row) in acc.iter_mut().enumerate() {
                    row[0] = _mm512_loadu_ps(c.add(r * ldc));
                    row[1] = _mm512_loadu_ps(c.add(r * ldc + 16));
                }
            }
            acc
        }
    }

    #[inline(always)]
    unsafe fn store_12x32(acc: &[[__m512; 2]; 12], c: *mut f32, ldc: usize) {
        // SAFETY: the callers pass their own promise about `c`.
        unsafe {
            for (r, row) in acc.iter().enumerate() {
                _mm512_storeu_ps(c.add(r * ldc), row[0]);
                _mm512_storeu_ps(c.add(r * ldc + 16), row[1]);
            }
        }
    }

    /// `c (6 × 16) += Σ_p a_p ⊗ b[p]` over `b` `kc × 16` and column `p`
    /// of `a`'s rows read in place: row `r` is `a[r · lda..][..kc]`; rows
    /// from `rows` on repeat row `rows − 1` (their sums are not stored).
    ///
    /// # Safety
    /// `c` is valid for reads and writes of 6 rows of 16 floats, `ldc`
    /// apart; the CPU has AVX2 and FMA.
    #[inline(always)]
    pub(super) unsafe fn tile_6x16_in_place<const LOAD: bool>(
        a: &[f32],
        lda: usize,
        rows: usize,
        b: &[f32],
        c: *mut f32,
        ldc: usize,
    ) {
        let kc = b.len() / 16;
        let rows = rows_in_place::<6>(a, lda, rows, kc);
        // SAFETY: as in `tile_12x32_in_place`.
        unsafe {
            let mut acc = load_6x16::<LOAD>(c, ldc);
            let mut pb = b.as_ptr();
            for p in 0..kc {
                let b0 = _mm256_loadu_ps(pb);
                let b1 = _mm256_loadu_ps(pb.add(8));
                for (row, &ptr) in acc.iter_mut().zip(&rows) {
                    let ar = _mm256_broadcast_ss(&*ptr.add(p));
                    row[0] = _mm256_fmadd_ps(ar, b0, row[0]);
                    row[1] = _mm256_fmadd_ps(ar, b1, row[1]);
                }
                pb = pb.add(16);
            }
            store_6x16(&acc, c, ldc);
        }
    }

    /// `c (6 × 16) += Σ_p a[p] ⊗ b[p]` over `a` `kc × 6`, `b` `kc × 16`.
    ///
    /// # Safety
    /// As [`tile_6x16_in_place`].
    #[inline(always)]
    pub(super) unsafe fn tile_6x16<const LOAD: bool>(
        a: &[f32],
        b: &[f32],
        c: *mut f32,
        ldc: usize,
    ) {
        let kc = (a.len() / 6).min(b.len() / 16);
        // SAFETY: as in `tile_12x32`, with AVX2 + FMA.
        unsafe {
            let mut acc = load_6x16::<LOAD>(c, ldc);
            let (mut pa, mut pb) = (a.as_ptr(), b.as_ptr());
            for _ in 0..kc {
                let b0 = _mm256_loadu_ps(pb);
                let b1 = _mm256_loadu_ps(pb.add(8));
                for (r, row) in acc.iter_mut().enumerate() {
                    let ar = _mm256_set1_ps(*pa.add(r));
                    row[0] = _mm256_fmadd_ps(ar, b0, row[0]);
                    row[1] = _mm256_fmadd_ps(ar, b1, row[1]);
                }
                pa = pa.add(6);
                pb = pb.add(16);
            }
            store_6x16(&acc, c, ldc);
        }
    }

    /// `c`'s 6 × 16 block (or zeros) as 6 × 2 registers.
    #[inline(always)]
    unsafe fn load_6x16<const LOAD: bool>(c: *const f32, ldc: usize) -> [[__m256; 2]; 6] {
        // SAFETY: the callers pass their own promise about `c`.
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); 2]; 6];
            if LOAD {
                for (r, row) in acc.iter_mut().enumerate() {
                    row[0] = _mm256_loadu_ps(c.add(r * ldc));
                    row[1] = _mm256_loadu_ps(c.add(r * ldc + 8));
                }
            }
            acc
        }
    }

    #[inline(always)]
    unsafe fn store_6x16(acc: &[[__m256; 2]; 6], c: *mut f32, ldc: usize) {
        // SAFETY: the callers pass their own promise about `c`.
        unsafe {
            for (r, row) in acc.iter().enumerate() {
                _mm256_storeu_ps(c.add(r * ldc), row[0]);
                _mm256_storeu_ps(c.add(r * ldc + 8), row[1]);
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn naive(a: MatRef<'_>, b: MatRef<'_>) -> Vec<f64> {
        let (m, k, n) = (a.rows, a.cols, b.cols);
        let at = |i: usize, j: usize| f64::from(a.data[i * a.row_stride + j * a.col_stride]);
        let bt = |i: usize, j: usize| f64::from(b.data[i * b.row_stride + j * b.col_stride]);
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|p| at(i, p) * bt(p, j)).sum();
            }
        }
        out
    }

    /// Deterministic values in [-0.5, 0.5).
    pub(in crate::gemm) fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761) ^ seed) as f32 / u32::MAX as f32 - 0.5)
            .collect()
    }

    /// The value of an element the kernel initialised (NaN-poisoned
    /// before, so an element it skipped fails the comparison).
    #[expect(unsafe_code, reason = "every element was initialised to NaN first")]
    fn unsafe_read(v: MaybeUninit<f32>) -> f32 {
        // SAFETY: the test buffers start as `MaybeUninit::new(NaN)`.
        unsafe { v.assume_init() }
    }

    fn close(got: &[f32], want: &[f64], k: usize, what: &str) {
        for (g, w) in got.iter().zip(want) {
            let err = (f64::from(*g) - w).abs();
            assert!(
                err <= 1e-6 * k as f64 + 1e-5 * w.abs(),
                "{what}: {g} vs {w}"
            );
        }
    }

    #[test]
    fn every_isa_and_transpose_matches_a_naive_product() {
        // Odd sizes, sizes past one `KC` slice and one `MC` block, empty `k`.
        for (m, k, n) in [
            (1, 1, 1),
            (13, 7, 33),
            (97, 300, 65),
            (100, 513, 40),
            (5, 0, 3),
        ] {
            let (da, db) = (values(m * k, 1), values(k * n, 2));
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = if ta {
                    MatRef::row_major(&da, k, m).t()
                } else {
                    MatRef::row_major(&da, m, k)
                };
                let b = if tb {
                    MatRef::row_major(&db, n, k).t()
                } else {
                    MatRef::row_major(&db, k, n)
                };
                let want = naive(a, b);
                for isa in [Isa::Avx512, Isa::Avx2Fma, Isa::Scalar] {
                    let what = format!("{isa:?} {m}x{k}x{n} ta={ta} tb={tb}");
                    let mut c = vec![f32::NAN; m * n];
                    gemm(isa, a, b, &mut c, n, false);
                    close(&c, &want, k, &what);
                    // Into memory never written: every element is set.
                    let mut fresh = vec![MaybeUninit::new(f32::NAN); m * n];
                    gemm_uninit(isa, a, b, &mut fresh, n);
                    let fresh: Vec<f32> = fresh.iter().map(|v| unsafe_read(*v)).collect();
                    close(&fresh, &want, k, &format!("uninit {what}"));
                }
            }
        }
    }

    #[test]
    fn accumulating_adds_to_what_is_there_and_ldc_leaves_other_columns() {
        let (m, k, n, ldc) = (14, 270, 35, 40);
        let (da, db) = (values(m * k, 5), values(k * n, 6));
        let (a, b) = (MatRef::row_major(&da, m, k), MatRef::row_major(&db, k, n));
        let want = naive(a, b);
        for isa in [Isa::Avx512, Isa::Avx2Fma, Isa::Scalar] {
            let mut c = vec![1.0f32; m * ldc];
            gemm(isa, a, b, &mut c, ldc, true);
            for i in 0..m {
                let row = &c[i * ldc..(i + 1) * ldc];
                let shifted: Vec<f64> = want[i * n..(i + 1) * n].iter().map(|w| w + 1.0).collect();
                close(&row[..n], &shifted, k, &format!("{isa:?} row {i}"));
                assert!(row[n..].iter().all(|&v| v == 1.0), "{isa:?}: wrote past n");
            }
        }
    }
}
