/**
 * Every piece of text the transform inserts, in one place, so that
 * `stripInstrumentation` can remove exactly what `instrument` added.
 *
 * All inserted code uses identifiers starting with `__vz` (module-level:
 * `__vzr` runtime, `__vzb` frame-id base, `__vze` enter, `__vzx` exit;
 * per-activation in suspending functions: `__vzs` "inside the frame" flag,
 * `__vzt` temp; value logging, only with `InstrumentOptions.log`: `__vzla` arguments,
 * `__vzlr` return value, `__vzlt` thrown value, `__vzlc` caught exception). Inserted text never contains a line break, so every original
 * token keeps its line; the source map restores the columns.
 */

/**
 * Name of the global the preload installs:
 * `{ reg(packed): number, e(id): void, x(id): void, ab(id): number, ae(id, span): void }`.
 */
export const RUNTIME_GLOBAL = '__viz_rt';

const id = (k: number): string => `__vzb+${k}`;

/**
 * Module prologue, inserted on the first line after the hashbang and the directive prologue.
 * `__vze`/`__vzx` are also declared as (hoisted) no-op functions: in an ES module
 * cycle a function of this module can run before its body does; its events are
 * then dropped instead of failing on an undefined binding.
 */
export function prologue(packedJson: string, log = false): string {
  return (
    `;var __vzr=globalThis.${RUNTIME_GLOBAL}||{reg:function(){return 0},e:function(){},x:function(){}},` +
    `__vzb=__vzr.reg(${packedJson})${PROLOGUE_END}${log ? PROLOGUE_LOG : ''}`
  );
}
/**
 * Ends every prologue. `__vzab`/`__vzae` (async span begin/end) keep their no-op declarations
 * when the runtime has none (an older preload).
 */
export const PROLOGUE_END =
  ';__vze=__vzr.e;__vzx=__vzr.x;__vzab=__vzr.ab||__vzab;__vzae=__vzr.ae||__vzae;' +
  'function __vze(){}function __vzx(){}function __vzab(){return 0}function __vzae(){}';
/**
 * Follows `PROLOGUE_END` when a value-logging option is on (never otherwise, so the default
 * output does not change): the aliases of the runtime's `la`/`lr`/`lt`/`lc`, with hoisted
 * fallbacks of the same return behaviour (an older runtime, an ES module cycle):
 * `__vzla(id, names, ...values)` arguments, `__vzlr(id, value)` returns `value`,
 * `__vzlt(error)` returns `error`, `__vzlc(error)` a caught exception.
 */
export const PROLOGUE_LOG =
  '__vzla=__vzr.la||__vzla;__vzlr=__vzr.lr||__vzlr;__vzlt=__vzr.lt||__vzlt;__vzlc=__vzr.lc||__vzlc;' +
  'function __vzla(){}function __vzlr(i,v){return v}function __vzlt(e){return e}function __vzlc(){}';
/** Marks a source as already instrumented (idempotency). */
export const PROLOGUE_MARK = `;var __vzr=globalThis.${RUNTIME_GLOBAL}||`;

// Function bodies (block bodies: after `{` and the directive prologue; before the closing `}`).
// `la` is the argument logging call (`logArgs`) or ''.
export const open = (k: number, la = ''): string => `;__vze(${id(k)});${la}try{`;
export const close = (k: number): string => `}finally{__vzx(${id(k)})}`;
// Suspending functions (contain await / yield / for await) keep a per-activation flag, and
// their activation is an async span (`__vza`: its id) from the first entry to completion.
export const openS = (k: number, la = ''): string =>
  `;var __vzs=1,__vzt,__vza=__vzab(${id(k)});__vze(${id(k)});${la}try{`;
export const closeS = (k: number): string => `}finally{__vzs&&__vzx(${id(k)});__vzae(${id(k)},__vza)}`;
// Arrow functions with an expression body get a block body. The opening drops the
// leading `;` of `open`/`openS`: a block body's `{` + open + original `return ` must
// not read as an arrow's opening.
export const arrowOpen = (inner: string): string => `{${inner.slice(1)}return `;
/** `;}`: an empty statement keeps this distinct from a block body's close followed by its original `}`. */
export const arrowClose = (inner: string): string => `${inner};}`;

// A suspension `await X` / `yield X` / `yield* X` / async-generator `return X`:
// (__vzt=await (__vzt=X,__vzs=0,__vzx(id),__vzt),__vzs=1,__vze(id),__vzt)
export const SUSP_OPEN = '(__vzt=';
/**
 * The same at the start of a statement in a statement list: the `;` keeps a
 * previous statement without a semicolon from being continued (`f()\n(...)`).
 */
export const SUSP_OPEN_STMT = ';/*__vz*/(__vzt=';
/**
 * Exit only when inside the frame: an await in a catch parameter's default or a
 * `for await` head's pattern runs after a resumption that has not re-entered yet.
 */
export const suspend = (k: number): string => `,__vzs&&(__vzs=0,__vzx(${id(k)})),__vzt)`;
export const resume = (k: number): string => `,__vzs=1,__vze(${id(k)}),__vzt)`;
/** `yield` without an argument: inserted after the keyword. */
export const yieldNoArg = (k: number): string => ` (__vzt=void 0${suspend(k)}${resume(k)}`;

/**
 * `yield` without an argument that ended its statement by ASI (`x = yield` + newline + `[1]`):
 * our closing `)` could be continued by the next line, so the statement gets its `;`.
 */
export const yieldNoArgAsi = (k: number): string => `${yieldNoArg(k)}/*__vz*/;`;

/** First statement of every catch / finally block of a suspending function. */
export const reenter = (k: number): string => `__vzs||(__vzs=1,__vze(${id(k)}));`;

// `for await (H of Y) B` ->
// try{/*__vz*/for await (H of (__vzt=Y,__vzs=0,__vzx(id),__vzt)) {if(!__vzs)..enter..;try{B}finally{__vzs&&(__vzs=0,__vzx(id))}}}finally{__vzs||(..enter..)}
export const FOR_AWAIT_OPEN = 'try{/*__vz*/';
export const forAwaitClose = (k: number): string => `}finally{__vzs||(__vzs=1,__vze(${id(k)}))}`;
// (`if(!__vzs)`, not `__vzs||`: an original `{` + `reenter` + original `try{` must not read as this)
export const forAwaitBodyOpen = (k: number): string => `{if(!__vzs)__vzs=1,__vze(${id(k)});try{`;
export const forAwaitBodyClose = (k: number): string => `}finally{__vzs&&(__vzs=0,__vzx(${id(k)}))}}`;

// ---- value logging (InstrumentOptions.log; none of this is inserted by default) ----
/**
 * `log.args`: part of the body's opening, after the enter call and before `try{`, in every
 * function with at least one parameter binding: `__vzla(__vzb+K,"a,c,rest",a,c,rest);` (every
 * identifier the parameter list binds, in source order, read at body start, after defaults).
 */
export const logArgs = (k: number, names: readonly string[]): string =>
  names.length === 0 ? '' : `__vzla(${id(k)},${JSON.stringify(names.join(','))},${names.join(',')});`;
// `log.return`: `return X` -> `return __vzlr(__vzb+K,(X)/*__vz*/)` (also an arrow's expression body;
// not in generators and async generators).
export const logReturnOpen = (k: number): string => `__vzlr(${id(k)},(`;
// `log.exceptions`: `throw X` -> `throw __vzlt((X)/*__vz*/)` (no frame id: also at top level).
export const LOG_THROW_OPEN = '__vzlt((';
/** Closes `logReturnOpen` / `LOG_THROW_OPEN` (the comment makes it unambiguous for the strip). */
export const LOG_CLOSE = ')/*__vz*/)';
/**
 * The same when the statement ended by ASI (`return () => {}` + newline + `(x)`): our `)`
 * could be continued by the next line, so the statement gets its `;` (its own marker: an
 * original `;` after `LOG_CLOSE` must not be stripped with it).
 */
export const LOG_CLOSE_ASI = ')/*__vz;*/);';
/** `log.exceptions`: first statement of a catch body whose parameter is an identifier (after `reenter`). */
export const logCatch = (name: string): string => `__vzlc(${name});`;

const N = '\\d+';
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** Builds the regex source of a fragment whose frame id is a number. */
const pat = (f: (k: number) => string): string => esc(f(0)).replace(/__vzb\\\+0/g, `__vzb\\+${N}`);

/** `__vzla(...)` inside a body opening (optional); `LA` stands for it in the pattern. */
const LA = '\u0000';
const LA_RE = `(?:__vzla\\(__vzb\\+${N},"[^"\\n]*"(?:,[^,;()\\n]+)+\\);)?`;
const patLa = (f: (k: number) => string): string => pat(f).replace(LA, () => LA_RE);

// Alternatives are tried left to right at each position: longer fragments that
// start like shorter ones come first.
const STRIP_RE = new RegExp(
  [
    `${esc(PROLOGUE_MARK)}[^\\n]*?${esc(PROLOGUE_END)}(?:${esc(PROLOGUE_LOG)})?`,
    patLa((k) => arrowOpen(openS(k, LA))),
    patLa((k) => arrowOpen(open(k, LA))),
    pat((k) => arrowClose(closeS(k))),
    pat((k) => arrowClose(close(k))),
    patLa((k) => openS(k, LA)),
    patLa((k) => open(k, LA)),
    pat(closeS),
    pat(close),
    pat(yieldNoArgAsi),
    pat(yieldNoArg),
    esc(SUSP_OPEN_STMT),
    esc(SUSP_OPEN),
    pat(suspend),
    pat(resume),
    pat(reenter),
    esc(FOR_AWAIT_OPEN),
    pat(forAwaitClose),
    pat(forAwaitBodyOpen),
    pat(forAwaitBodyClose),
    pat(logReturnOpen),
    esc(LOG_THROW_OPEN),
    esc(LOG_CLOSE_ASI),
    esc(LOG_CLOSE),
    `__vzlc\\([^()\\n]+\\);`,
  ].join('|'),
  'g',
);

/**
 * Removes every fragment `instrument` inserted: `stripInstrumentation(code)` is
 * the original source (and the same holds for any slice of it that starts and
 * ends outside inserted text, e.g. what `Function.prototype.toString` returns
 * for an instrumented function). Original text that happens to contain one of
 * the fragments verbatim would be stripped too.
 */
export function stripInstrumentation(text: string): string {
  if (!text.includes('__vz')) return text;
  return text.replace(STRIP_RE, '');
}
