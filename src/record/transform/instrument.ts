/* eslint-disable @typescript-eslint/no-explicit-any -- the AST is walked generically */
import { parse } from 'acorn';
import MagicString from 'magic-string';
import remapping from '@jridgewell/remapping';
import { TraceMap, decodedMappings, originalPositionFor, LEAST_UPPER_BOUND } from '@jridgewell/trace-mapping';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputError } from '../../model/errors.js';
import * as F from './fragments.js';
import { packFrames, unpackFrames, type FrameInfo, type FrameKind } from './frames.js';

export interface InstrumentOptions {
  /** Path (or URL) of the file; names the frames and the map's source. */
  filename: string;
  /** 'module' for ESM, 'script' for CommonJS (return outside functions allowed). */
  sourceType: 'script' | 'module';
  /** Source map of `source` itself (e.g. the inline map tsx emits); frames and the output map go through it. */
  inputMap?: object | string | null;
  /**
   * Sparse mode: instrument only the functions with these names (as frames name them: `f`,
   * `Class.method`); the others are left alone (`skipped`, reason `not-selected`).
   */
  only?: readonly string[];
  /** Value logging; all off by default (the output is then byte-identical to today's). */
  log?: { args?: boolean; return?: boolean; exceptions?: boolean };
}

export interface SkippedFunction {
  name: string;
  line: number;
  column: number;
  /**
   * unmapped: no original position in the input map (compiler helper); block-scope: see README;
   * not-selected: sparse mode (`only`) and the name is not listed.
   */
  reason: 'unmapped' | 'block-scope' | 'not-selected';
}

export interface TransformResult {
  code: string;
  /** v3 source map from `code` to the original source (composed with `inputMap`); null when nothing changed and there was no input map. */
  map: object | null;
  /** Frame K is entered with `enter(base + K)`. */
  frames: FrameInfo[];
  /** Functions left as they were. */
  skipped: SkippedFunction[];
}

interface Ctx {
  node: any;
  name: string;
  kind: FrameKind;
  /** Offset used for the frame's line and column. */
  pos: number;
  /** Final frame index, or -1 when not instrumented. */
  k: number;
  suspending: boolean;
  skip: SkippedFunction['reason'] | null;
  /** Names declared with `var` in this function's own scope (only collected when needed). */
  vars: Set<string> | null;
  /** Names of function declarations at the top level of the body. */
  topFns: string[] | null;
  /** The body calls `eval(...)` directly (it could declare a var named like a top-level function). */
  directEval: boolean;
  strict: boolean;
  /** Where the body's opening edit goes. */
  openPos: number;
  /** Frame-local line/column (1-based) and file after mapping. */
  line: number;
  column: number;
  file: string;
  /** Parameter binding names, in source order (only collected with `log.args`). */
  argNames: string[];
}

type EditKind =
  | 'open'
  | 'close'
  | 'arrowOpen'
  | 'arrowClose'
  | 'suspOpen'
  | 'suspOpenStmt'
  | 'suspend'
  | 'resume'
  | 'yieldNoArg'
  | 'yieldNoArgAsi'
  | 'reenter'
  | 'faOpen'
  | 'faClose'
  | 'faBodyOpen'
  | 'faBodyClose'
  | 'logReturnOpen'
  | 'logThrowOpen'
  | 'logClose'
  | 'logCloseAsi'
  | 'logCatch';

/** An insertion; `left` ones close (attached to the text before `pos`), the others open. */
interface Edit {
  pos: number;
  left: boolean;
  kind: EditKind;
  ctx: Ctx;
  /** logCatch: the catch parameter. */
  name?: string;
}

function editText(e: Edit): string {
  const c = e.ctx;
  const k = c.k;
  const la = F.logArgs(k, c.argNames);
  switch (e.kind) {
    case 'open':
      return c.suspending ? F.openS(k, la) : F.open(k, la);
    case 'close':
      return c.suspending ? F.closeS(k) : F.close(k);
    case 'arrowOpen':
      return F.arrowOpen(c.suspending ? F.openS(k, la) : F.open(k, la));
    case 'arrowClose':
      return F.arrowClose(c.suspending ? F.closeS(k) : F.close(k));
    case 'suspOpen':
      return F.SUSP_OPEN;
    case 'suspOpenStmt':
      return F.SUSP_OPEN_STMT;
    case 'suspend':
      return F.suspend(k);
    case 'resume':
      return F.resume(k);
    case 'yieldNoArg':
      return F.yieldNoArg(k);
    case 'yieldNoArgAsi':
      return F.yieldNoArgAsi(k);
    case 'reenter':
      return c.suspending ? F.reenter(k) : '';
    case 'faOpen':
      return F.FOR_AWAIT_OPEN;
    case 'faClose':
      return F.forAwaitClose(k);
    case 'faBodyOpen':
      return F.forAwaitBodyOpen(k);
    case 'faBodyClose':
      return F.forAwaitBodyClose(k);
    case 'logReturnOpen':
      return F.logReturnOpen(k);
    case 'logThrowOpen':
      return F.LOG_THROW_OPEN;
    case 'logClose':
      return F.LOG_CLOSE;
    case 'logCloseAsi':
      return F.LOG_CLOSE_ASI;
    case 'logCatch':
      return F.logCatch(e.name!);
  }
}

const SKIP_KEYS = new Set(['type', 'start', 'end', 'loc', 'range']);

function isFunction(n: any): boolean {
  return (
    n.type === 'FunctionDeclaration' ||
    n.type === 'FunctionExpression' ||
    n.type === 'ArrowFunctionExpression'
  );
}

/** Line starts ('\n' only, as source maps and magic-string count lines). */
function lineStarts(src: string): number[] {
  const out = [0];
  let i = src.indexOf('\n');
  while (i !== -1) {
    out.push(i + 1);
    i = src.indexOf('\n', i + 1);
  }
  return out;
}

function lineCol(starts: number[], pos: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= pos) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: pos - starts[lo]! };
}

const MAX_NAME_TEXT = 60;

function shortText(src: string, n: any): string | null {
  if (n.end - n.start > MAX_NAME_TEXT) return null;
  const t = src.slice(n.start, n.end);
  return /[\n\r\u2028\u2029]/.test(t) ? null : t;
}

function keyName(src: string, key: any, computed: boolean): string {
  if (!computed) {
    if (key.type === 'Identifier') return key.name;
    if (key.type === 'PrivateIdentifier') return '#' + key.name;
    if (key.type === 'Literal') return String(key.value);
  }
  return `[${shortText(src, key) ?? '…'}]`;
}

/** Parses an input map; returns null when absent. */
function toTraceMap(inputMap: object | string | null | undefined, filename: string): TraceMap | null {
  if (inputMap == null) return null;
  const m = typeof inputMap === 'string' ? JSON.parse(inputMap) : inputMap;
  return new TraceMap(m as any, filename);
}

/**
 * Instruments every function of `source` so that each call (and each resumption
 * of a generator or async function) runs between `enter(base+K)` and
 * `exit(base+K)` of the runtime found at `globalThis.__viz_rt`.
 */
export function instrument(source: string, options: InstrumentOptions): TransformResult {
  const { filename, sourceType } = options;
  if (source.includes(F.PROLOGUE_MARK)) return alreadyInstrumented(source, options);

  // The map has a segment at every token start (where V8 positions can point)
  // and at each line start: exact for stack traces, far smaller than per-character.
  const ms = new MagicString(source);
  let ast: any;
  try {
    ast = parse(source, {
      onToken: (t) => ms.addSourcemapLocation(t.start),
      ecmaVersion: 'latest',
      sourceType,
      allowHashBang: true,
      allowReturnOutsideFunction: sourceType === 'script',
      preserveParens: true,
    });
  } catch (err) {
    const e = err as { pos?: number; message?: string };
    throw inputError(filename, e.pos, `cannot parse for instrumentation: ${e.message ?? String(err)}`);
  }

  let trace: TraceMap | null;
  try {
    trace = toTraceMap(options.inputMap, filename);
  } catch (err) {
    throw inputError(filename, undefined, `unusable input source map: ${(err as Error).message}`);
  }
  const starts = lineStarts(source);
  const logArgs = options.log?.args === true;
  const logReturn = options.log?.return === true;
  const logExceptions = options.log?.exceptions === true;
  const edits: Edit[] = [];
  const ctxs: Ctx[] = [];
  const src = source;

  // ---- naming -------------------------------------------------------------
  function ownerOfObject(obj: any, parent: any, grand: any[]): string | null {
    if (!parent) return null;
    if (parent.type === 'ParenthesizedExpression')
      return ownerOfObject(parent, grand[grand.length - 1], grand.slice(0, -1));
    if (parent.type === 'VariableDeclarator' && parent.init === obj && parent.id.type === 'Identifier')
      return parent.id.name;
    if (parent.type === 'AssignmentExpression' && parent.right === obj) return shortText(src, parent.left);
    if (parent.type === 'ExportDefaultDeclaration') return 'default';
    if (parent.type === 'Property' && parent.value === obj) {
      const gp = grand[grand.length - 1];
      const owner = ownerOfObject(gp, grand[grand.length - 2], grand.slice(0, -2));
      const key = keyName(src, parent.key, parent.computed);
      return owner ? `${owner}.${key}` : key;
    }
    if (parent.type === 'PropertyDefinition' && parent.value === obj) return classMemberName(parent, grand);
    return null;
  }

  function className(cls: any, parent: any): string {
    if (cls.id) return cls.id.name;
    if (parent?.type === 'VariableDeclarator' && parent.id.type === 'Identifier') return parent.id.name;
    if (parent?.type === 'AssignmentExpression' && parent.right === cls)
      return shortText(src, parent.left) ?? '<anonymous>';
    if (parent?.type === 'ExportDefaultDeclaration') return 'default';
    return '<anonymous>';
  }

  /** `member` is a MethodDefinition / PropertyDefinition / StaticBlock; ancestors end with its ClassBody. */
  function classMemberName(member: any, anc: any[]): string {
    const body = anc[anc.length - 1];
    const cls = anc[anc.length - 2];
    let parent = anc[anc.length - 3];
    for (let i = anc.length - 3; parent?.type === 'ParenthesizedExpression'; i--) parent = anc[i - 1];
    const cname = body?.type === 'ClassBody' && cls ? className(cls, parent) : '<anonymous>';
    if (member.type === 'StaticBlock') return `${cname}.<static>`;
    if (member.kind === 'constructor') return `${cname}.constructor`;
    const prefix = member.kind === 'get' ? 'get ' : member.kind === 'set' ? 'set ' : '';
    return `${cname}.${prefix}${keyName(src, member.key, member.computed)}`;
  }

  function functionName(fn: any, anc: any[]): { name: string; member: any } {
    let i = anc.length - 1;
    let parent = anc[i];
    while (parent?.type === 'ParenthesizedExpression') parent = anc[--i];
    const rest = anc.slice(0, i);
    if (parent?.type === 'MethodDefinition' && parent.value === fn)
      return { name: classMemberName(parent, rest), member: parent };
    if (parent?.type === 'Property' && parent.value === fn && (parent.method || parent.kind !== 'init')) {
      const owner = ownerOfObject(rest[rest.length - 1], rest[rest.length - 2], rest.slice(0, -2));
      const prefix = parent.kind === 'get' ? 'get ' : parent.kind === 'set' ? 'set ' : '';
      const key = prefix + keyName(src, parent.key, parent.computed);
      return { name: owner ? `${owner}.${key}` : key, member: parent };
    }
    if (fn.id) return { name: fn.id.name, member: null };
    if (!parent) return { name: '<anonymous>', member: null };
    switch (parent.type) {
      case 'VariableDeclarator':
        if (parent.id.type === 'Identifier') return { name: parent.id.name, member: null };
        break;
      case 'AssignmentExpression':
        if (parent.right === fn) return { name: shortText(src, parent.left) ?? '<anonymous>', member: null };
        break;
      case 'AssignmentPattern':
        if (parent.right === fn && parent.left.type === 'Identifier')
          return { name: parent.left.name, member: null };
        break;
      case 'Property':
        if (parent.value === fn) {
          const owner = ownerOfObject(rest[rest.length - 1], rest[rest.length - 2], rest.slice(0, -2));
          const key = keyName(src, parent.key, parent.computed);
          return { name: owner ? `${owner}.${key}` : key, member: null };
        }
        break;
      case 'PropertyDefinition':
        if (parent.value === fn) return { name: classMemberName(parent, rest), member: null };
        break;
      case 'ExportDefaultDeclaration':
        return { name: 'default', member: null };
    }
    return { name: '<anonymous>', member: null };
  }

  function kindOf(fn: any, member: any): FrameKind {
    if (member) {
      if (member.kind === 'get') return 'getter';
      if (member.kind === 'set') return 'setter';
      if (member.kind === 'constructor') return 'constructor';
    }
    if (fn.async && fn.generator) return 'asyncGenerator';
    if (fn.generator) return 'generator';
    if (fn.async) return 'async';
    if (member) return 'method';
    if (fn.type === 'ArrowFunctionExpression') return 'arrow';
    return 'function';
  }

  function newCtx(node: any, name: string, kind: FrameKind, pos: number, strict: boolean): Ctx {
    const lc = lineCol(starts, pos);
    const c: Ctx = {
      node,
      name,
      kind,
      pos,
      openPos: -1,
      k: -1,
      suspending: false,
      skip: null,
      vars: null,
      topFns: null,
      directEval: false,
      strict,
      line: lc.line,
      column: lc.column + 1,
      file: filename,
      argNames: [],
    };
    if (trace) {
      let o = originalPositionFor(trace, { line: lc.line, column: lc.column });
      // no segment at or before the start on this line: take the first one after it, if it is
      // inside the function (a helper the compiler put before mapped code stays unmapped)
      if (o.source == null && segmentWithin(trace, lc, lineCol(starts, node.end))) {
        o = originalPositionFor(trace, { line: lc.line, column: lc.column, bias: LEAST_UPPER_BOUND });
      }
      if (o.source == null || o.line == null) c.skip = 'unmapped';
      else {
        c.line = o.line;
        c.column = (o.column ?? 0) + 1;
        c.file = o.source.startsWith('file://') ? fileURLToPath(o.source) : o.source;
      }
    }
    ctxs.push(c);
    return c;
  }

  /** Top-level function declarations of a body become block-scoped inside `try{}`: check that is harmless. */
  function prepareBlockScope(c: Ctx, stmts: any[]): void {
    let fns: string[] | null = null;
    for (const s of stmts) {
      if (s.type === 'FunctionDeclaration') (fns ??= []).push(s.id.name);
    }
    if (fns) {
      c.topFns = fns;
      c.vars = new Set();
      if (c.strict && new Set(fns).size !== fns.length) c.skip ??= 'block-scope';
    }
  }

  function isStrictBody(stmts: any[]): boolean {
    for (const s of stmts) {
      if (s.type !== 'ExpressionStatement' || typeof s.directive !== 'string') return false;
      if (s.directive === 'use strict') return true;
    }
    return false;
  }

  function directiveEnd(stmts: any[], from: number): number {
    let pos = from;
    for (const s of stmts) {
      if (s.type !== 'ExpressionStatement' || typeof s.directive !== 'string') break;
      pos = s.end;
    }
    return pos;
  }

  function addNames(names: Set<string>, pattern: any): void {
    if (!pattern) return;
    switch (pattern.type) {
      case 'Identifier':
        names.add(pattern.name);
        break;
      case 'ObjectPattern':
        for (const p of pattern.properties) addNames(names, p.type === 'RestElement' ? p.argument : p.value);
        break;
      case 'ArrayPattern':
        for (const p of pattern.elements) addNames(names, p);
        break;
      case 'AssignmentPattern':
        addNames(names, pattern.left);
        break;
      case 'RestElement':
        addNames(names, pattern.argument);
        break;
    }
  }

  // ---- the walk ---------------------------------------------------------------
  const anc: any[] = [];

  function enterFunction(fn: any, outer: Ctx | null, outerStrict: boolean): Ctx {
    const { name, member } = functionName(fn, anc);
    const kind = kindOf(fn, member);
    const pos = member ? member.start : fn.start;
    const body = fn.body;
    const isBlock = body.type === 'BlockStatement';
    const strict = outerStrict || (isBlock && isStrictBody(body.body));
    const c = newCtx(fn, name, kind, pos, strict);
    void outer;
    if (logArgs) {
      const names = new Set<string>();
      for (const p of fn.params) addNames(names, p);
      c.argNames = [...names];
    }
    if (isBlock) {
      prepareBlockScope(c, body.body);
      if (c.topFns) {
        // a parameter named like a top-level function: `arguments[i]` would no longer see the function
        const params = new Set<string>();
        for (const p of fn.params) addNames(params, p);
        if (c.topFns.some((f) => params.has(f))) c.skip ??= 'block-scope';
      }
      c.openPos = directiveEnd(body.body, body.start + 1);
      edits.push({ pos: c.openPos, left: false, kind: 'open', ctx: c });
      registerClose(c);
    } else {
      // an expression body: `{...try{return ` + [`__vzlr(id,(`] E [`)/*__vz*/)`] + `}finally{...};}`
      edits.push({ pos: body.start, left: false, kind: 'arrowOpen', ctx: c });
      if (logReturn) edits.push({ pos: body.start, left: false, kind: 'logReturnOpen', ctx: c });
      registerClose(c);
      if (logReturn) edits.push({ pos: body.end, left: true, kind: 'logClose', ctx: c });
    }
    return c;
  }

  /**
   * Registers the body's closing edit. Closing edits at one position come out in
   * reverse order of registration, so this runs before the children are walked.
   */
  function registerClose(c: Ctx): void {
    const body = c.node.type === 'StaticBlock' ? c.node : c.node.body;
    if (body.type === 'BlockStatement' || body.type === 'StaticBlock') {
      // an empty body `{}`: the close must follow the open at the same position
      const pos = body.end - 1;
      edits.push({ pos, left: pos !== c.openPos, kind: 'close', ctx: c });
    } else edits.push({ pos: body.end, left: true, kind: 'arrowClose', ctx: c });
  }

  function finishFunction(c: Ctx): void {
    if (c.topFns && c.vars) {
      for (const f of c.topFns) if (c.vars.has(f)) c.skip ??= 'block-scope';
      if (c.directEval) c.skip ??= 'block-scope';
    }
  }

  /** Is `n` the first token of an expression statement in a statement list (where ASI matters)? */
  function startsStatementInList(n: any): boolean {
    for (let i = anc.length - 1; i >= 0; i--) {
      const a = anc[i];
      if (a.start !== n.start) return false;
      if (a.type === 'ExpressionStatement') {
        const p = anc[i - 1]?.type;
        return p === 'Program' || p === 'BlockStatement' || p === 'StaticBlock' || p === 'SwitchCase';
      }
    }
    return false;
  }

  /** Does the statement around `n` end where `n` ends, with no `;` of its own? */
  function endsStatementByAsi(n: any): boolean {
    for (let i = anc.length - 1; i >= 0; i--) {
      const a = anc[i];
      if (a.end !== n.end) return false;
      if (/Statement$|Declaration$/.test(a.type)) return src.charCodeAt(a.end - 1) !== 59; /* ; */
    }
    return false;
  }

  function suspension(c: Ctx | null, n: any, arg: any): void {
    if (!c) return;
    c.suspending = true;
    if (n.type === 'YieldExpression' && !arg) {
      edits.push({
        pos: n.start,
        left: false,
        kind: startsStatementInList(n) ? 'suspOpenStmt' : 'suspOpen',
        ctx: c,
      });
      edits.push({
        pos: n.end,
        left: true,
        kind: endsStatementByAsi(n) ? 'yieldNoArgAsi' : 'yieldNoArg',
        ctx: c,
      });
      return;
    }
    // Closing edits at one position come out in reverse order of registration
    // (prependLeft): register the outer `resume` before the inner `suspend`;
    // the argument's own closings, registered later, come out first.
    if (n.type !== 'ReturnStatement') {
      edits.push({
        pos: n.start,
        left: false,
        kind: startsStatementInList(n) ? 'suspOpenStmt' : 'suspOpen',
        ctx: c,
      });
      edits.push({ pos: n.end, left: true, kind: 'resume', ctx: c });
    }
    edits.push({ pos: arg.start, left: false, kind: 'suspOpen', ctx: c });
    edits.push({ pos: arg.end, left: true, kind: 'suspend', ctx: c });
  }

  /** Top-level code (no frame): throw and catch logging only; always applied. */
  const topCtx = { k: 0, argNames: [] as string[] } as unknown as Ctx;

  // `return X` / `throw X` -> `return OPEN(X)/*__vz*/)`, with a `;` when the statement ended by ASI.
  function logValue(n: any, kind: 'logReturnOpen' | 'logThrowOpen', c: Ctx): void {
    const asi = src.charCodeAt(n.end - 1) !== 59; /* ; */
    edits.push({ pos: n.argument.start, left: false, kind, ctx: c });
    edits.push({ pos: n.argument.end, left: true, kind: asi ? 'logCloseAsi' : 'logClose', ctx: c });
  }

  // Iterative depth-first walk (deep ASTs such as long `a + b + ...` chains must not
  // overflow the stack). The work stack holds triples: node, context, strict; a
  // LEAVE entry pops the ancestor stack and, for a function, finishes it.
  const LEAVE = {};
  const work: any[] = [];

  function pushChildren(n: any, c: Ctx | null, strict: boolean): void {
    const mark = work.length;
    for (const key in n) {
      if (SKIP_KEYS.has(key)) continue;
      const v = n[key];
      if (v === null || typeof v !== 'object') continue;
      if (Array.isArray(v)) {
        for (const x of v) if (x !== null && typeof x.type === 'string') work.push(x, c, strict);
      } else if (typeof v.type === 'string') work.push(v, c, strict);
    }
    reverseTriples(work, mark);
  }

  function visit(n: any, c: Ctx | null, strict: boolean): void {
    let inner = c;
    let innerStrict = strict;
    switch (n.type) {
      case 'Literal':
      case 'Identifier':
      case 'TemplateElement':
        return;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression': {
        inner = enterFunction(n, c, strict);
        innerStrict = inner.strict;
        anc.push(n);
        work.push(LEAVE, inner, false);
        // parameters are evaluated before the frame is entered; they cannot
        // contain await/yield of this function, so the context does not matter.
        const mark = work.length;
        if (n.id) work.push(n.id, c, strict);
        for (const p of n.params) work.push(p, inner, innerStrict);
        work.push(n.body, inner, innerStrict);
        reverseTriples(work, mark);
        return;
      }
      case 'StaticBlock': {
        const name = classMemberName(n, anc);
        inner = newCtx(n, name, 'static-block', n.start, true);
        prepareBlockScope(inner, n.body);
        // `static {` : insert after the brace
        inner.openPos = src.indexOf('{', n.start) + 1;
        edits.push({ pos: inner.openPos, left: false, kind: 'open', ctx: inner });
        registerClose(inner);
        anc.push(n);
        work.push(LEAVE, inner, false);
        pushChildren(n, inner, true);
        return;
      }
      case 'ClassDeclaration':
      case 'ClassExpression':
        innerStrict = true;
        break;
      case 'AwaitExpression':
        suspension(c, n, n.argument);
        break;
      case 'YieldExpression':
        suspension(c, n, n.argument);
        break;
      case 'ReturnStatement':
        // the logging call wraps the whole argument: registered before the argument's own edits
        if (c && n.argument && logReturn && !c.node.generator) logValue(n, 'logReturnOpen', c);
        if (c && n.argument && c.node.async && c.node.generator) suspension(c, n, n.argument);
        break;
      case 'ThrowStatement':
        if (logExceptions) logValue(n, 'logThrowOpen', c ?? topCtx);
        break;
      case 'ForOfStatement':
        if (n.await && c) {
          c.suspending = true;
          let top = n;
          for (let i = anc.length - 1; anc[i]?.type === 'LabeledStatement'; i--) top = anc[i];
          edits.push({ pos: top.start, left: false, kind: 'faOpen', ctx: c });
          edits.push({ pos: n.end, left: true, kind: 'faClose', ctx: c });
          edits.push({ pos: n.right.start, left: false, kind: 'suspOpen', ctx: c });
          edits.push({ pos: n.right.end, left: true, kind: 'suspend', ctx: c });
          edits.push({ pos: n.body.start, left: false, kind: 'faBodyOpen', ctx: c });
          edits.push({ pos: n.body.end, left: true, kind: 'faBodyClose', ctx: c });
        }
        break;
      case 'CatchClause':
        if (c) edits.push({ pos: n.body.start + 1, left: false, kind: 'reenter', ctx: c });
        if (logExceptions && n.param?.type === 'Identifier')
          edits.push({
            pos: n.body.start + 1,
            left: false,
            kind: 'logCatch',
            ctx: c ?? topCtx,
            name: n.param.name,
          });
        break;
      case 'TryStatement':
        if (c && n.finalizer)
          edits.push({ pos: n.finalizer.start + 1, left: false, kind: 'reenter', ctx: c });
        break;
      case 'CallExpression':
        if (c && n.callee.type === 'Identifier' && n.callee.name === 'eval') c.directEval = true;
        break;
      case 'VariableDeclaration':
        if (n.kind === 'var' && c?.vars) for (const d of n.declarations) addNames(c.vars, d.id);
        break;
    }
    anc.push(n);
    work.push(LEAVE, null, false);
    pushChildren(n, inner, innerStrict);
  }

  const programStrict = sourceType === 'module' || isStrictBody(ast.body);
  for (let i = ast.body.length - 1; i >= 0; i--) work.push(ast.body[i], null, programStrict);
  while (work.length > 0) {
    const strict = work.pop() as boolean;
    const c = work.pop() as Ctx | null;
    const n = work.pop();
    if (n === LEAVE) {
      anc.pop();
      if (c) finishFunction(c);
    } else visit(n, c, strict);
  }

  // ---- number the frames, apply the edits ------------------------------------
  const frames: FrameInfo[] = [];
  const skipped: SkippedFunction[] = [];
  const only = options.only ? new Set(options.only) : undefined;
  for (const c of ctxs) {
    if (only && !c.skip && !only.has(c.name)) c.skip = 'not-selected';
    if (c.skip) skipped.push({ name: c.name, line: c.line, column: c.column, reason: c.skip });
    else {
      c.k = frames.length;
      frames.push({ name: c.name, file: c.file, line: c.line, column: c.column, kind: c.kind });
    }
  }
  const topLogged = edits.some((e) => e.ctx === topCtx);
  if (frames.length === 0 && !topLogged)
    return {
      code: source,
      map: options.inputMap == null ? null : parseMap(options.inputMap),
      frames,
      skipped,
    };

  for (const e of edits) {
    if (e.ctx.k < 0) continue;
    const text = editText(e);
    if (text === '') continue;
    if (e.left) ms.prependLeft(e.pos, text);
    else ms.appendRight(e.pos, text);
  }
  // hashbang stays first; the prologue goes after the program's directive prologue
  const bodyStart = source.startsWith('#!') ? lineEnd(source) : 0;
  const ppos = directiveEnd(ast.body, bodyStart);
  const logOn = logArgs || logReturn || logExceptions;
  ms.appendLeft(ppos, F.prologue(packFrames(frames), logOn));

  const own = ms.generateMap({ hires: false, source: path.basename(filename), includeContent: false });
  let map: object = {
    version: 3,
    sources: own.sources,
    names: own.names,
    mappings: own.mappings,
  };
  if (options.inputMap != null) {
    const composed = remapping([map as any, parseMap(options.inputMap) as any], () => null);
    map = {
      version: 3,
      sources: composed.sources,
      ...(composed.sourcesContent ? { sourcesContent: composed.sourcesContent } : {}),
      names: composed.names,
      mappings: composed.mappings,
    };
  }
  return { code: ms.toString(), map, frames, skipped };
}

/** Reverses the order of the triples pushed since `from` (so the first child is visited first). */
function reverseTriples(a: unknown[], from: number): void {
  for (let i = from, j = a.length - 3; i < j; i += 3, j -= 3) {
    for (let k = 0; k < 3; k++) {
      const t = a[i + k];
      a[i + k] = a[j + k];
      a[j + k] = t;
    }
  }
}

function lineEnd(s: string): number {
  const i = s.search(/[\n\r\u2028\u2029]/);
  if (i === -1) return s.length;
  return s.startsWith('\r\n', i) ? i + 2 : i + 1;
}

function parseMap(m: object | string): object {
  return typeof m === 'string' ? (JSON.parse(m) as object) : m;
}

function alreadyInstrumented(source: string, options: InstrumentOptions): TransformResult {
  const i = source.indexOf(F.PROLOGUE_MARK);
  const a = source.indexOf('__vzr.reg(', i);
  const b = source.indexOf(F.PROLOGUE_END, a);
  let frames: FrameInfo[] = [];
  if (a !== -1 && b !== -1) {
    try {
      frames = unpackFrames(JSON.parse(source.slice(a + '__vzr.reg('.length, b - 1)));
    } catch {
      frames = [];
    }
  }
  return {
    code: source,
    map: options.inputMap == null ? null : parseMap(options.inputMap),
    frames,
    skipped: [],
  };
}

export { isFunction };

/** Whether the first mapped segment at or after `start` on its line lies before `end`. */
function segmentWithin(
  trace: TraceMap,
  start: { line: number; column: number },
  end: { line: number; column: number },
): boolean {
  const line = decodedMappings(trace)[start.line - 1];
  const seg = line?.find((s) => s[0] >= start.column && s.length >= 4);
  if (!seg) return false;
  return end.line > start.line || seg[0] < end.column;
}
