//! The fast path of the record parser. Most bytes of an export are message, thinking and tool
//! content, and a full serde parse of them is wasted work: this scanner walks the top-level
//! object once, captures the few fields metering needs (`id`, `type`, `processed_at`,
//! `session_id`, `session_thread_id`, `name`, `is_error`, `tool_use_id`, and `model_usage` as
//! raw text) and skips every other value, 64 bytes at a time through its strings, while still
//! checking that it is well-formed JSON (strings, escapes, control characters, numbers,
//! literals, nesting up to serde_json's depth limit). The caller has checked the line's UTF-8.
//!
//! Anything unusual (an escape in a captured field, a field of an unexpected type, a repeated
//! field) answers `None`, and the caller runs the full parser, which produces the record or the
//! exact error message. So this path can only be faster, never different: property tests and
//! the fuzz target `record` check that against the full parser.

/// The top-level fields of one object, borrowed from the input.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fields<'a> {
    pub id: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub processed_at: Option<&'a str>,
    pub session_id: Option<&'a str>,
    pub session_thread_id: Option<&'a str>,
    /// `Some(Some(name))` for a plain string, `Some(None)` for any other value.
    pub name: Option<Option<&'a str>>,
    /// `Some(Some(flag))` for `true`/`false`, `Some(None)` for any other value.
    pub is_error: Option<Option<bool>>,
    /// As `name`.
    pub tool_use_id: Option<Option<&'a str>>,
    /// The raw `model_usage` value.
    pub model_usage: Option<&'a str>,
    /// The raw `stop_reason` value (an idle's).
    pub stop_reason: Option<&'a str>,
}

/// The keys the full parser reads at the top level: a repeated one is an error there, so
/// it sends us to the full parser too.
const KNOWN: [&[u8]; 17] = [
    b"id",
    b"type",
    b"processed_at",
    b"session_id",
    b"session_thread_id",
    b"name",
    b"is_error",
    b"tool_use_id",
    b"model_usage",
    b"usage",
    b"agent",
    b"updated_at",
    b"data",
    b"title",
    b"metadata",
    b"budget",
    b"stop_reason",
];

/// The state of a string scan carried from one 64-byte block to the next.
struct Scan {
    any_escape: bool,
    /// The block's first byte is escaped (by a backslash ending the block before).
    carry: u64,
}

impl Scan {
    /// One block at `base` of `b`, given its masks of quotes, backslashes and control bytes:
    /// `Some(Some(k))` if the string ends at its byte k, `Some(None)` if it goes on, `None`
    /// if it is malformed. A block without backslashes (the common case even in prose) costs
    /// a few instructions; one with them finds its escaped bytes without a branch (simdjson's
    /// method), then checks their letters.
    #[inline(always)]
    fn block(
        &mut self,
        b: &[u8],
        base: usize,
        masks: (u64, u64, u64),
        letters: impl FnOnce() -> Option<(u64, u64)>,
    ) -> Option<Option<usize>> {
        let (quotes, backslashes, controls) = masks;
        let (closing, escaped) = if backslashes | self.carry == 0 {
            (quotes, 0)
        } else {
            let escaped = escaped_bytes(backslashes, &mut self.carry);
            (quotes & !escaped, escaped)
        };
        // The bytes before the closing quote (all 64 if none).
        let before = closing.wrapping_sub(1) & !closing;
        // JSON forbids raw control characters in strings.
        if controls & before != 0 {
            return None;
        }
        let esc = escaped & before;
        self.any_escape |= esc != 0 || backslashes & before != 0;
        if esc != 0 {
            let valid = match letters() {
                Some((letters, unicode)) => {
                    esc & !letters == 0
                        && (esc & unicode == 0 || hex_follows(b, base, esc & unicode))
                }
                None => escapes_valid(b, base, esc),
            };
            if !valid {
                return None;
            }
        }
        Some((closing != 0).then(|| closing.trailing_zeros() as usize))
    }
}

/// Whether four hex digits follow each `u` at `base` + the set bits of `at`.
fn hex_follows(b: &[u8], base: usize, mut at: u64) -> bool {
    while at != 0 {
        let u = base + at.trailing_zeros() as usize;
        at &= at - 1;
        match b.get(u + 1..u + 5) {
            Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => {}
            _ => return false,
        }
    }
    true
}

/// Whether the escaped bytes at `base` + the set bits of `esc` make valid escapes. A table
/// lookup per escape, not a branch on its letter: escapes are frequent in content (`\n`,
/// `\"`) and their letters unpredictable; `\u` is checked apart, as rare.
#[inline(always)]
fn escapes_valid(b: &[u8], base: usize, esc: u64) -> bool {
    let (mut ok, mut unicode) = (true, 0u64);
    let mut e = esc;
    while e != 0 {
        let bit = e & e.wrapping_neg();
        let kind = b
            .get(base + e.trailing_zeros() as usize)
            .map_or(0, |&c| ESCAPE[c as usize]);
        e ^= bit;
        ok &= kind != 0;
        unicode |= if kind == 2 { bit } else { 0 };
    }
    ok && (unicode == 0 || hex_follows(b, base, unicode))
}

/// What may follow a backslash: 1 a one-letter escape, 2 `u` (four hex digits follow), 0
/// nothing else.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let simple = b"\"\\/bfnrt";
    let mut k = 0;
    while k < simple.len() {
        t[simple[k] as usize] = 1;
        k += 1;
    }
    t[b'u' as usize] = 2;
    t
};

/// serde_json's nesting limit; deeper input goes to the full parser for its error.
const MAX_DEPTH: usize = 128;

struct Cursor<'a> {
    b: &'a [u8],
    /// `b` as text (the caller checked its UTF-8), so a captured string needs no check of
    /// its own: it lies between ASCII quotes, hence on character boundaries.
    text: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor {
            b: text.as_bytes(),
            text,
            i: 0,
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A string at the cursor: its raw content, and whether it holds escapes. Content is
    /// read 64 bytes at a time: masks of quotes, backslashes and control bytes, the escaped
    /// bytes found from the backslash runs without a branch (as simdjson does), so a block
    /// costs the same whatever its escapes; only escaped bytes are looked at one by one.
    /// With AVX-512 or AVX2 (checked once at run time) the masks take far fewer
    /// instructions.
    fn string(&mut self) -> Option<(&'a [u8], bool)> {
        #[cfg(target_arch = "x86_64")]
        match simd() {
            // SAFETY: the CPU has AVX-512BW.
            Simd::Avx512 => return unsafe { self.string_avx512() },
            // SAFETY: the CPU has AVX2.
            Simd::Avx2 => return unsafe { self.string_avx2() },
            Simd::Sse2 => {}
        }
        self.string_with(masks, |_| None)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512bw,avx512vbmi")]
    unsafe fn string_avx512(&mut self) -> Option<(&'a [u8], bool)> {
        self.string_with(
            // SAFETY: only reached through `string_avx512`, on a CPU with AVX-512BW and VBMI.
            |block| unsafe { masks_avx512(block) },
            |block| Some(unsafe { letters_avx512(block) }),
        )
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn string_avx2(&mut self) -> Option<(&'a [u8], bool)> {
        self.string_with(
            |block| {
                // SAFETY: only reached through `string_avx2`, on a CPU with AVX2.
                unsafe { masks_avx2(block) }
            },
            |_| None,
        )
    }

    #[inline(always)]
    fn string_with(
        &mut self,
        masks: impl Fn(&[u8; 64]) -> (u64, u64, u64),
        letters: impl Fn(&[u8; 64]) -> Option<(u64, u64)>,
    ) -> Option<(&'a [u8], bool)> {
        self.eat(b'"')?;
        let start = self.i;
        let mut scan = Scan {
            any_escape: false,
            carry: 0,
        };
        let mut i = start;
        while let Some(block) = self.b.get(i..i + 64) {
            let block = block.try_into().expect("64 bytes");
            if let Some(end) = scan.block(self.b, i, masks(block), || letters(block))? {
                return Some(self.close(start, i + end, scan.any_escape));
            }
            i += 64;
        }
        // The last bytes, padded with spaces (neither quotes nor control bytes).
        let rest = &self.b[i..];
        let mut padded = [b' '; 64];
        padded[..rest.len()].copy_from_slice(rest);
        let end = scan.block(self.b, i, masks(&padded), || letters(&padded))??;
        Some(self.close(start, i + end, scan.any_escape))
    }

    fn close(&mut self, start: usize, end: usize, escaped: bool) -> (&'a [u8], bool) {
        self.i = end + 1;
        (&self.b[start..end], escaped)
    }

    /// The byte-at-a-time reference for [`Cursor::string`] (tests compare the two).
    #[cfg(test)]
    fn string_scalar(&mut self) -> Option<(&'a [u8], bool)> {
        self.eat(b'"')?;
        let start = self.i;
        let mut escaped = false;
        loop {
            self.i = self.b[self.i..]
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                .map(|p| p + self.i)?;
            match self.b[self.i] {
                b'"' => {
                    self.i += 1;
                    return Some((&self.b[start..self.i - 1], escaped));
                }
                b'\\' => {}
                // JSON forbids raw control characters in strings.
                _ => return None,
            }
            escaped = true;
            match *self.b.get(self.i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
                b'u' => {
                    let hex = self.b.get(self.i + 2..self.i + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    self.i += 6;
                }
                _ => return None,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Option<()> {
        let _ = self.eat(b'-');
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.eat(b'.').is_some() && self.digits() == 0 {
            return None;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.b[self.i..]
            .starts_with(word)
            .then(|| self.i += word.len())
    }

    /// The comma-separated items of an object or array after its opening bracket, up to and
    /// including `close`.
    fn items(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.i += 1;
        self.ws();
        if self.eat(close).is_some() {
            return Some(());
        }
        loop {
            self.ws();
            item(self)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                c if c == close => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An object at the cursor: each key (plain, as serde needs the keys it matches) is
    /// handed to `member`, which reads the value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        if self.peek()? != b'{' {
            return None;
        }
        self.items(b'}', |c| {
            let (key, escaped) = c.string()?;
            if escaped {
                return None;
            }
            c.ws();
            c.eat(b':')?;
            c.ws();
            member(c, key)
        })
    }

    fn boolean(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|_| true),
            b'f' => self.literal(b"false").map(|_| false),
            _ => None,
        }
    }

    /// Skip one value, checking its syntax.
    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' if depth >= MAX_DEPTH => None,
            b'{' => self.items(b'}', |c| {
                c.string()?;
                c.ws();
                c.eat(b':')?;
                c.ws();
                c.value(depth + 1)
            }),
            b'[' => self.items(b']', |c| c.value(depth + 1)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    /// A string value without escapes, as `&str`.
    fn plain_string(&mut self) -> Option<&'a str> {
        match self.string()? {
            (s, false) => self.as_text(s),
            (_, true) => None,
        }
    }

    /// A string value: `Some(text)` without escapes, `None` with them.
    fn maybe_plain_string(&mut self) -> Option<Option<&'a str>> {
        let (s, escaped) = self.string()?;
        Some(if escaped {
            None
        } else {
            Some(self.as_text(s)?)
        })
    }

    /// A part of the input (a string's content, a value) as text.
    fn as_text(&self, part: &[u8]) -> Option<&'a str> {
        let start = part.as_ptr() as usize - self.b.as_ptr() as usize;
        self.text.get(start..start + part.len())
    }
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, PartialEq)]
enum Simd {
    Avx512,
    Avx2,
    Sse2,
}

/// The widest vector instructions this CPU has, detected once.
#[cfg(target_arch = "x86_64")]
fn simd() -> Simd {
    static SIMD: std::sync::OnceLock<Simd> = std::sync::OnceLock::new();
    *SIMD.get_or_init(|| {
        if std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vbmi")
        {
            Simd::Avx512
        } else if std::arch::is_x86_feature_detected!("avx2") {
            Simd::Avx2
        } else {
            Simd::Sse2
        }
    })
}

/// [`masks`] in one 64-byte register, the compares giving the bit masks directly.
///
/// # Safety
/// The CPU must have AVX-512BW.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512bw")]
unsafe fn masks_avx512(block: &[u8; 64]) -> (u64, u64, u64) {
    use std::arch::x86_64::*;
    // SAFETY: an unaligned load of the 64 bytes of `block`.
    let x = unsafe { _mm512_loadu_si512(block.as_ptr() as *const __m512i) };
    (
        _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(b'"' as i8)),
        _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(b'\\' as i8)),
        _mm512_cmplt_epu8_mask(x, _mm512_set1_epi8(0x20)),
    )
}

/// The masks of the letters that may follow a backslash, and of `u`, in a block: one byte
/// shuffle looks each byte up in a 128-byte table (bytes from 0x80 are never letters).
///
/// # Safety
/// The CPU must have AVX-512BW and VBMI.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512bw,avx512vbmi")]
unsafe fn letters_avx512(block: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::*;
    // SAFETY: unaligned loads of the 64 bytes of `block` and of the two halves of ESCAPE.
    let (x, lo, hi) = unsafe {
        (
            _mm512_loadu_si512(block.as_ptr() as *const __m512i),
            _mm512_loadu_si512(ESCAPE.as_ptr() as *const __m512i),
            _mm512_loadu_si512(ESCAPE.as_ptr().add(64) as *const __m512i),
        )
    };
    let kind = _mm512_permutex2var_epi8(lo, x, hi);
    let letters = _mm512_test_epi8_mask(kind, kind) & !_mm512_movepi8_mask(x);
    let unicode = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(b'u' as i8));
    (letters, unicode)
}

/// [`masks`] 32 bytes at a time.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn masks_avx2(block: &[u8; 64]) -> (u64, u64, u64) {
    use std::arch::x86_64::*;
    let quote = _mm256_set1_epi8(b'"' as i8);
    let backslash = _mm256_set1_epi8(b'\\' as i8);
    let below_space = _mm256_set1_epi8(0x1f);
    let (mut q, mut b, mut c) = (0u64, 0u64, 0u64);
    for k in 0..2 {
        // SAFETY: each unaligned load reads 32 of the 64 bytes of `block`.
        let x = unsafe { _mm256_loadu_si256(block.as_ptr().add(32 * k) as *const __m256i) };
        let bits = |m: __m256i| (_mm256_movemask_epi8(m) as u32 as u64) << (32 * k);
        q |= bits(_mm256_cmpeq_epi8(x, quote));
        b |= bits(_mm256_cmpeq_epi8(x, backslash));
        c |= bits(_mm256_cmpeq_epi8(_mm256_min_epu8(x, below_space), x));
    }
    (q, b, c)
}

/// Masks of the quotes, backslashes and control bytes (below 0x20) of a block: bit k is
/// byte k. SSE2 (in every x86-64 CPU) 16 bytes at a time; elsewhere a plain loop.
#[inline]
fn masks(block: &[u8; 64]) -> (u64, u64, u64) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is in the x86-64 baseline; each unaligned load reads 16 of the 64
        // bytes of `block`.
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let below_space = _mm_set1_epi8(0x1f);
            let (mut q, mut b, mut c) = (0u64, 0u64, 0u64);
            for k in 0..4 {
                let x = _mm_loadu_si128(block.as_ptr().add(16 * k) as *const __m128i);
                let bits = |m: __m128i| (_mm_movemask_epi8(m) as u16 as u64) << (16 * k);
                q |= bits(_mm_cmpeq_epi8(x, quote));
                b |= bits(_mm_cmpeq_epi8(x, backslash));
                // unsigned x <= 0x1f
                c |= bits(_mm_cmpeq_epi8(_mm_min_epu8(x, below_space), x));
            }
            (q, b, c)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let (mut q, mut b, mut c) = (0u64, 0u64, 0u64);
        for (k, &x) in block.iter().enumerate() {
            q |= ((x == b'"') as u64) << k;
            b |= ((x == b'\\') as u64) << k;
            c |= ((x < 0x20) as u64) << k;
        }
        (q, b, c)
    }
}

/// The bytes of a block escaped by a backslash (the byte after an odd run of backslashes),
/// given the block's backslash mask; `carry` says the block's first byte is escaped and is
/// set for the next block. simdjson's branchless method: a run that starts on an even bit
/// ends (escapes) on an odd one, and an add finds where each run ends.
#[inline]
fn escaped_bytes(backslashes: u64, carry: &mut u64) -> u64 {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    let backslashes = backslashes & !*carry;
    let follows_escape = (backslashes << 1) | *carry;
    let odd_starts = backslashes & !EVEN & !follows_escape;
    let (even_runs, overflow) = odd_starts.overflowing_add(backslashes);
    *carry = overflow as u64;
    (EVEN ^ (even_runs << 1)) & follows_escape
}

/// Scan one JSON object (one NDJSON line). `None`: use the full parser.
pub fn fields(line: &str) -> Option<Fields<'_>> {
    let mut c = Cursor::new(line);
    let mut f = Fields::default();
    let mut seen = Seen::default();
    c.ws();
    c.object(|c, key| {
        let known = KNOWN.iter().position(|k| *k == key);
        seen.first(known)?;
        match key {
            b"id" => f.id = Some(c.plain_string()?),
            b"type" => f.kind = Some(c.plain_string()?),
            b"processed_at" => f.processed_at = Some(c.plain_string()?),
            b"session_id" => f.session_id = Some(c.plain_string()?),
            b"session_thread_id" => f.session_thread_id = Some(c.plain_string()?),
            b"name" if c.peek() == Some(b'"') => f.name = Some(c.maybe_plain_string()?),
            b"tool_use_id" if c.peek() == Some(b'"') => {
                f.tool_use_id = Some(c.maybe_plain_string()?)
            }
            b"is_error" if c.literal(b"true").is_some() => f.is_error = Some(Some(true)),
            b"is_error" if c.literal(b"false").is_some() => f.is_error = Some(Some(false)),
            _ => {
                let start = c.i;
                c.value(1)?;
                match key {
                    b"name" => f.name = Some(None),
                    b"tool_use_id" => f.tool_use_id = Some(None),
                    b"is_error" => f.is_error = Some(None),
                    b"model_usage" => f.model_usage = Some(c.as_text(&c.b[start..c.i])?),
                    b"stop_reason" => f.stop_reason = Some(c.as_text(&c.b[start..c.i])?),
                    // The full parser wants these as strings (or null).
                    b"updated_at" if &c.b[start..c.i] != b"null" => return None,
                    _ => {}
                }
            }
        }
        Some(())
    })?;
    c.ws();
    (c.i == line.len()).then_some(f)
}

/// Which known keys an object has had: serde rejects a repeated one, so we leave it to serde.
#[derive(Default)]
struct Seen(u32);

impl Seen {
    /// `None` if the known key `k` came before.
    fn first(&mut self, k: Option<usize>) -> Option<()> {
        if let Some(k) = k {
            if self.0 & (1 << k) != 0 {
                return None;
            }
            self.0 |= 1 << k;
        }
        Some(())
    }
}

/// The fields of a Claude Code transcript line that metering reads (see `transcript.rs`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TranscriptFields<'a> {
    pub kind: Option<&'a str>,
    pub session_id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub sidechain: Option<bool>,
    pub api_error: Option<bool>,
    /// `agentId`: the subagent that wrote the line.
    pub agent_id: Option<&'a str>,
    /// The raw `costUSD` number: Claude Code's own estimate.
    pub cost_usd: Option<&'a str>,
    pub message_id: Option<&'a str>,
    pub model: Option<&'a str>,
    /// The raw `message.usage` object.
    pub usage: Option<&'a str>,
    /// Whether the line has a `message` object.
    pub message: bool,
}

const LINE_KEYS: [&[u8]; 9] = [
    b"type",
    b"sessionId",
    b"timestamp",
    b"requestId",
    b"isSidechain",
    b"isApiErrorMessage",
    b"message",
    b"agentId",
    b"costUSD",
];
const MESSAGE_KEYS: [&[u8]; 3] = [b"id", b"model", b"usage"];

/// Scan one transcript line (checking all of it), reading its fields and those of its
/// `message` in the same pass, so the content is skipped once. `None`: use the full parser.
/// The line must be valid UTF-8 (the chunk reader checks it).
pub fn transcript_fields(line: &str) -> Option<TranscriptFields<'_>> {
    let mut c = Cursor::new(line);
    let mut t = TranscriptFields::default();
    let mut seen = Seen::default();
    c.ws();
    c.object(|c, key| {
        seen.first(LINE_KEYS.iter().position(|k| *k == key))?;
        match key {
            b"type" => t.kind = Some(c.plain_string()?),
            b"sessionId" => t.session_id = Some(c.plain_string()?),
            b"timestamp" => t.timestamp = Some(c.plain_string()?),
            b"requestId" => t.request_id = Some(c.plain_string()?),
            b"isSidechain" => t.sidechain = Some(c.boolean()?),
            b"isApiErrorMessage" => t.api_error = Some(c.boolean()?),
            b"agentId" => t.agent_id = Some(c.plain_string()?),
            b"costUSD" => {
                let start = c.i;
                c.value(1)?;
                t.cost_usd = Some(c.as_text(&c.b[start..c.i])?);
            }
            b"message" => {
                t.message = true;
                let mut seen = Seen::default();
                c.object(|c, key| {
                    seen.first(MESSAGE_KEYS.iter().position(|k| *k == key))?;
                    match key {
                        b"id" => t.message_id = Some(c.plain_string()?),
                        b"model" => t.model = Some(c.plain_string()?),
                        b"usage" => {
                            let start = c.i;
                            c.value(2)?;
                            t.usage = Some(c.as_text(&c.b[start..c.i])?);
                        }
                        _ => c.value(2)?,
                    }
                    Some(())
                })?;
            }
            _ => c.value(1)?,
        }
        Some(())
    })?;
    c.ws();
    (c.i == line.len()).then_some(t)
}

/// Whether an event of this type, with these fields, cannot change the bill, so the fast
/// path may take it. Everything else (statuses, spans, web searches, failed tool results,
/// session and thread objects, configuration and usage updates, stream furniture) goes
/// through the full parser.
pub fn cannot_bill(kind: &str, f: &Fields) -> bool {
    match kind {
        // A tool use is a web search by its name.
        "agent.tool_use" => match f.name {
            None => true,
            Some(name) => name.is_some_and(|n| n != "web_search"),
        },
        // A tool result matters only when it failed (it may cancel a web search).
        "agent.tool_result" => matches!(f.is_error, None | Some(Some(false))),
        "session"
        | "session_thread"
        | "session.updated"
        | "session.usage"
        | "session.deleted"
        | "span.model_request_end"
        | "span.outcome_evaluation_end"
        | "ping"
        | "event_start"
        | "event_delta"
        | "error" => false,
        k => !k.starts_with("session.status_") && !k.starts_with("session.thread_status_"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_top_level_fields_and_skips_content() {
        let line = r#"{"id": "sevt_1", "type":"agent.message", "content":[{"type":"text","text":"a \"b\" \\ \u00e9 {[", "id":"inner"}], "processed_at":"2026-05-04T09:00:00Z", "n": -1.5e3, "ok": [true,false,null], "session_id":"sesn_x"}"#;
        let f = fields(line).unwrap();
        assert_eq!(f.id, Some("sevt_1"));
        assert_eq!(f.kind, Some("agent.message"));
        assert_eq!(f.processed_at, Some("2026-05-04T09:00:00Z"));
        assert_eq!(f.session_id, Some("sesn_x"));
        assert_eq!(f.session_thread_id, None);
    }

    /// The block scanner against the byte-at-a-time one: strings of every length around
    /// block edges, with runs of backslashes, escapes of every kind, \u escapes cut by the
    /// end, control bytes and unterminated strings.
    #[test]
    fn block_strings_agree_with_the_scalar_reference() {
        let pieces: [&[u8]; 12] = [
            b"a",
            b"\\\"",
            b"\\\\",
            b"\\n",
            b"\\u00e9",
            b"\\u00g9",
            b"\\",
            b"\"",
            b"\t",
            "é".as_bytes(),
            b"\\x",
            b" ",
        ];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..60_000 {
            let mut s = vec![b'"'];
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 150) as usize;
            let mut y = x;
            for k in 0..len {
                if k % 20 == 19 {
                    y ^= y << 13;
                    y ^= y >> 7;
                    y ^= y << 17;
                }
                // Mostly plain bytes, so long runs cross block edges.
                let pick = (y >> ((k % 20) * 3)) % 40;
                s.extend_from_slice(pieces.get(pick as usize).copied().unwrap_or(b"a"));
            }
            if !x.is_multiple_of(3) {
                s.extend_from_slice(b"\" tail");
            }
            let mut a = Cursor {
                b: &s,
                text: "",
                i: 0,
            };
            let mut b = Cursor {
                b: &s,
                text: "",
                i: 0,
            };
            let (fast, slow) = (a.string(), b.string_scalar());
            assert_eq!(fast, slow, "{:?}", String::from_utf8_lossy(&s));
            if fast.is_some() {
                assert_eq!(a.i, b.i);
            }
            // The other CPUs' scans (this one may take the widest): SSE2 with escapes
            // checked one by one, and AVX2.
            let mut c = Cursor {
                b: &s,
                text: "",
                i: 0,
            };
            assert_eq!(c.string_with(masks, |_| None), slow);
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                let mut d = Cursor {
                    b: &s,
                    text: "",
                    i: 0,
                };
                // SAFETY: the CPU has AVX2.
                assert_eq!(unsafe { d.string_avx2() }, slow);
            }
        }
    }

    /// Every way of computing the masks agrees with the plain definition (the scanner above
    /// runs only the fastest one this CPU has).
    #[test]
    fn mask_implementations_agree() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..20_000 {
            let mut block = [0u8; 64];
            for b in block.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = [
                    b'"',
                    b'\\',
                    b'a',
                    0x00,
                    0x1f,
                    0x20,
                    0x7f,
                    0x80,
                    0xff,
                    (x >> 24) as u8,
                ][(x % 10) as usize];
            }
            let mut want = (0u64, 0u64, 0u64);
            for (k, &c) in block.iter().enumerate() {
                want.0 |= ((c == b'"') as u64) << k;
                want.1 |= ((c == b'\\') as u64) << k;
                want.2 |= ((c < 0x20) as u64) << k;
            }
            assert_eq!(masks(&block), want);
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2.
                assert_eq!(unsafe { masks_avx2(&block) }, want);
            }
            #[cfg(target_arch = "x86_64")]
            if simd() == Simd::Avx512 {
                // SAFETY: the CPU has AVX-512BW and VBMI.
                assert_eq!(unsafe { masks_avx512(&block) }, want);
                let mut letters = (0u64, 0u64);
                for (k, &c) in block.iter().enumerate() {
                    letters.0 |= ((ESCAPE[c as usize] != 0) as u64) << k;
                    letters.1 |= ((c == b'u') as u64) << k;
                }
                // SAFETY: as above.
                assert_eq!(unsafe { letters_avx512(&block) }, letters);
            }
        }
    }

    #[test]
    fn anything_unusual_goes_to_the_full_parser() {
        for bad in [
            &br#"{"id":"a","type":"x","processed_at":"t""#[..], // truncated
            br#"{"id":"a","id":"b"}"#,                          // repeated field
            br#"{"id":"a\u0041"}"#,                             // escape in a captured field
            br#"{"id":1}"#,                                     // wrong type
            br#"{"a":[1,2}"#,                                   // mismatched brackets
            br#"{"a":"x\qy"}"#,                                 // bad escape
            b"{\"a\":\"x\ty\"}",                                // raw control character
            br#"{"a":01}"#,                                     // bad number
            br#"{"a":tru}"#,                                    // bad literal
            br#"{"a":1,}"#,                                     // trailing comma
            br#"{"a":1} x"#,                                    // trailing garbage
            br#"[{"a":1}]"#,                                    // not an object
            br#"{"updated_at":5}"#,                             // the full parser wants a string
        ] {
            let bad = std::str::from_utf8(bad).unwrap();
            assert_eq!(fields(bad), None, "{bad}");
        }
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
        assert_eq!(fields(&deep), None);
    }

    /// Every line of the fixtures and examples reads the same with and without the fast path.
    #[test]
    fn the_fast_path_agrees_with_the_full_parser_on_real_exports() {
        use crate::ingest::record::{parse_object, parse_object_full, Parsed};
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let mut fast = 0;
        for dir in ["tests/fixtures", "docs/examples"] {
            for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                for line in text.lines().filter(|l| l.starts_with('{')) {
                    let a = parse_object(line.as_bytes(), None);
                    let b = parse_object_full(line.as_bytes(), None);
                    match (a, b) {
                        (Ok(Parsed::Record(a)), Ok(Parsed::Record(b))) => assert_eq!(a, b),
                        (Ok(Parsed::Page(a)), Ok(Parsed::Page(b))) => assert_eq!(a.len(), b.len()),
                        (Err(a), Err(b)) => assert_eq!(a, b),
                        _ => panic!("fast and full parsers disagree on {line}"),
                    }
                    fast += fields(line).is_some_and(|f| cannot_bill(f.kind.unwrap_or(""), &f))
                        as usize;
                }
            }
        }
        assert!(fast > 20, "the fast path took only {fast} lines");
    }

    #[test]
    fn only_events_that_cannot_bill_take_the_fast_path() {
        let f = |s: &'static str| fields(s).unwrap();
        assert!(cannot_bill("agent.message", &f("{}")));
        assert!(cannot_bill("agent.tool_use", &f(r#"{"name":"bash"}"#)));
        assert!(!cannot_bill(
            "agent.tool_use",
            &f(r#"{"name":"web_search"}"#)
        ));
        assert!(!cannot_bill(
            "agent.tool_use",
            &f(r#"{"name":"web\u005fsearch"}"#)
        ));
        assert!(cannot_bill(
            "agent.tool_result",
            &f(r#"{"is_error":false}"#)
        ));
        assert!(!cannot_bill(
            "agent.tool_result",
            &f(r#"{"is_error":true}"#)
        ));
        assert!(!cannot_bill("agent.tool_result", &f(r#"{"is_error":1}"#)));
        for k in [
            "session.status_running",
            "session.thread_status_idle",
            "span.model_request_end",
            "session.updated",
        ] {
            assert!(!cannot_bill(k, &f("{}")), "{k}");
        }
    }
}
