// TandemScript — the OpenSIPS 3.x-compatible routing language of Tandem.
//
// Pipeline (all once, at start-up):
//   source ─ Lexer ─ Parser ─▶ ScriptAST ─ Analyzer (checks, ScriptConfig) ─ Compiler ─▶ Script
// `ScriptChecker().check(source:fileName:)` runs the whole pipeline and returns a `CheckResult`
// with every `Diagnostic` (`file:line:col: message`), the list of features Tandem lacks, the typed
// `ScriptConfig` and, when there are no errors, the compiled `Script`.
//
// Per message (hot path, no Foundation):
//   var ctx = ExecutionContext(script:message:proxy:logger:cache:stats:)   // one per worker
//   ctx.reset(message: msg)                                                // each new message
//   switch script.run(route: script.mainRoute, context: &ctx) { ... }     // ScriptOutcome
// The host implements `ScriptMessage` (pseudo-variables, headers, flags) and `ScriptProxy`
// (sl/tm/rr operations, is_myself, synchronous external functions). `async()` returns
// `.suspended(AsyncRequest)`: run the function, set `ctx.rc` (and AVPs), then
// `script.run(route: request.resumeRoute, context: &ctx)`. `launch()` jobs are collected in
// `ctx.launches`. AVPs (`ctx.avps`) belong to the transaction: store and restore them with it.
