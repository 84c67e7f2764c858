/*
 * plan.c — the operator graph, and which operators fuse into one loop.
 *
 * In: a checked Program. Out: a Plan whose nodes are the sources,
 * operators and outputs the program declares, in topological order, each
 * with its inputs, its stream type, its source position and its stage.
 * A stage is what runs as one loop per partition: a source or a shuffling
 * operator starts one, and an element-wise operator (map, flatMap, filter,
 * mapValues, flatMapValues) joins the stage of its input when it is that
 * input's only consumer. A stream used by several operators is
 * materialised once and read by each of them.
 *
 * Each node also gets its identity for checkpoints (assign_idents).
 *
 * `dsc plan` prints the graph (the golden tests compare it) and `--dot`
 * prints it for Graphviz.
 */
#include "dsc.h"

#include <string.h>

typedef struct Planner {
  Arena *a;
  Diags *d;
  Plan *plan;
  PtrVec memo_expr; /* Expr* already planned, parallel to memo_node */
  PtrVec memo_node;
} Planner;

static PlanNode *plan_expr(Planner *p, Expr *e);

static PlanNode *new_node(Planner *p, const OpInfo *op, Expr *call, Type *ty) {
  PlanNode *n = arena_alloc(p->a, sizeof *n);
  n->op = op;
  n->call = call;
  n->ty = ty;
  return n;
}

/* Appends n after its inputs: inputs are planned first, so order is topological. */
static void add_node(Planner *p, PlanNode *n) {
  n->id = p->plan->nodes.len + 1;
  vec_push(p->a, &p->plan->nodes, n);
  if (n->call)
    n->call->node_id = n->id;
}

/* The i-th positional argument of an operator call. */
static Expr *arg_value(Expr *call, int i) {
  int k = 0;
  for (int j = 0; j < call->args.len; j++) {
    Arg *a = call->args.items[j];
    if (a->name.len)
      continue;
    if (k++ == i)
      return a->value;
  }
  return NULL;
}

Expr *plan_arg(const PlanNode *n, int i) { return arg_value(n->call, i); }

Expr *plan_named_arg(const PlanNode *n, const char *name) {
  for (int j = 0; j < n->call->args.len; j++) {
    Arg *a = n->call->args.items[j];
    if (str_eq(a->name, name))
      return a->value;
  }
  return NULL;
}

static void window_params(PlanNode *n) {
  Expr *call = n->call;
  int first = 0;
  switch (n->op->kind) {
  case OP_REDUCEBYWINDOW:
  case OP_REDUCEBYKEYANDWINDOW: {
    Expr *second = arg_value(call, 1);
    first = second && second->kind != EX_DURATION ? 2 : 1;
    n->inverse = first == 2;
    break;
  }
  default:
    break;
  }
  Expr *w = arg_value(call, first), *s = arg_value(call, first + 1);
  n->window_ms = w && w->kind == EX_DURATION ? w->ival : 0;
  n->slide_ms = s && s->kind == EX_DURATION ? s->ival : 0;
}

static PlanNode *plan_call(Planner *p, Expr *e) {
  const OpInfo *op = e->op_info;
  PlanNode *n = new_node(p, op, e, e->ty && type_repr(e->ty)->kind == TY_STREAM ? e->ty : NULL);
  if (op->cls != OC_SOURCE) {
    PlanNode *in = plan_expr(p, e->lhs->lhs);
    if (!in)
      return NULL;
    vec_push(p->a, &n->inputs, in);
    switch (op->kind) {
    case OP_UNION:
    case OP_JOIN:
    case OP_LEFTOUTERJOIN:
    case OP_RIGHTOUTERJOIN:
    case OP_FULLOUTERJOIN:
    case OP_COGROUP: {
      PlanNode *other = plan_expr(p, arg_value(e, 0));
      if (!other)
        return NULL;
      vec_push(p->a, &n->inputs, other);
      break;
    }
    default:
      break;
    }
  }
  if (op->cls == OC_WINDOW)
    window_params(n);
  add_node(p, n);
  return n;
}

/* The plan node of a stream-valued expression (memoised: a let-bound
 * stream used twice is one node). */
static PlanNode *plan_expr(Planner *p, Expr *e) {
  if (!e)
    return NULL;
  for (int i = 0; i < p->memo_expr.len; i++)
    if (p->memo_expr.items[i] == e)
      return p->memo_node.items[i];
  PlanNode *n = NULL;
  if (e->kind == EX_NAME && e->ref == REF_GLOBAL) {
    n = plan_expr(p, e->global->value);
    if (n && !n->let_name.len)
      n->let_name = e->global->name;
  } else if (e->kind == EX_CALL && e->op_info) {
    n = plan_call(p, e);
  } else {
    diag_error(p->d, e->loc, "a stream must come from a source, an operator or a let name");
    return NULL;
  }
  vec_push(p->a, &p->memo_expr, e);
  vec_push(p->a, &p->memo_node, n);
  return n;
}

static bool is_fusable(const PlanNode *n) { return n->op->cls == OC_ELEMENTWISE; }

int plan_consumers(const Plan *plan, const PlanNode *n) {
  int k = 0;
  for (int i = 0; i < plan->nodes.len; i++) {
    PlanNode *m = plan->nodes.items[i];
    for (int j = 0; j < m->inputs.len; j++)
      k += m->inputs.items[j] == n;
  }
  return k;
}

static void assign_stages(Plan *plan) {
  int stage = 0;
  for (int i = 0; i < plan->nodes.len; i++) {
    PlanNode *n = plan->nodes.items[i];
    if (is_fusable(n) && n->inputs.len == 1) {
      PlanNode *in = n->inputs.items[0];
      if (in->op->cls != OC_OUTPUT && plan_consumers(plan, in) == 1 &&
          (is_fusable(in) || in->op->cls == OC_SOURCE)) {
        n->stage = in->stage;
        continue;
      }
    }
    n->stage = ++stage;
  }
  plan->nstages = stage;
}

/* Each node's identity in checkpoints (ds_node.ident), once the let names
 * are final: the let name; else its path: for a source, its operator and
 * its position among the sources of that operator (named or not), from 1
 * ("socket#2"); for an operator "<input>.<op>", with a second input in
 * parentheses ("a.join(b)"). Outputs too. Built only from names, never from
 * positions in the file, so editing an unrelated line keeps every identity.
 * Should two unnamed operators still have the same path (two
 * `a.countByWindow(...)`), the later ones get "#2", "#3", ... in plan order;
 * paths are built from the inputs' paths, not from those numbered
 * identities, so a duplicate stateless step (`a.map(f)` twice) numbers
 * nothing after it. */
static void assign_idents(Arena *a, Plan *plan) {
  int nsources[OP__COUNT] = {0};
  StrMap seen = {0}; /* path -> int*: how many nodes have it so far */
  const char **path = arena_alloc(a, sizeof(char *) * (size_t)(plan->nodes.len + 1)); /* by node id */
  for (int i = 0; i < plan->nodes.len; i++) {
    PlanNode *n = plan->nodes.items[i];
    const char *p;
    int source_no = n->op->cls == OC_SOURCE ? ++nsources[n->op->kind] : 0; /* named ones count too */
    if (n->let_name.len)
      p = arena_printf(a, "%.*s", (int)n->let_name.len, n->let_name.ptr);
    else if (source_no)
      p = arena_printf(a, "%s#%d", n->op->name, source_no);
    else if (n->inputs.len == 2)
      p = arena_printf(a, "%s.%s(%s)", path[((PlanNode *)n->inputs.items[0])->id], n->op->name,
                       path[((PlanNode *)n->inputs.items[1])->id]);
    else
      p = arena_printf(a, "%s.%s", path[((PlanNode *)n->inputs.items[0])->id], n->op->name);
    path[n->id] = p;
    /* "p#k" is never another node's path: let names hold no '#', a source's
     * path is unique and others end in an operator name or ')'. */
    Str key = {p, strlen(p)};
    int *count = strmap_get(&seen, key);
    if (!count) {
      count = arena_alloc(a, sizeof *count);
      strmap_put(a, &seen, key, count);
    }
    n->ident = ++*count == 1 ? p : arena_printf(a, "%s#%d", p, *count);
  }
}

Plan *plan_build(Arena *a, Program *prog, const Settings *s, Diags *d) {
  Plan *plan = arena_alloc(a, sizeof *plan);
  plan->settings = *s;
  Planner p = {.a = a, .d = d, .plan = plan};
  for (int i = 0; i < prog->stmts.len; i++) {
    Stmt *st = prog->stmts.items[i];
    if (st->kind == SK_LET && st->value && st->value->ty &&
        type_repr(st->value->ty)->kind == TY_STREAM) {
      /* The first let names the node: `let b = a` after `let a = ...` is an
       * alias and keeps the node's name (and its identity, see assign_idents). */
      PlanNode *n = plan_expr(&p, st->value);
      if (n && !n->let_name.len)
        n->let_name = st->name;
    } else if (st->kind == SK_EXPR && st->value && st->value->op_info &&
               st->value->op_info->cls == OC_OUTPUT) {
      PlanNode *n = plan_call(&p, st->value);
      if (n)
        vec_push(a, &plan->outputs, n);
    }
  }
  assign_stages(plan);
  assign_idents(a, plan);
  return plan;
}

static void print_ms(FILE *out, int64_t ms) {
  if (ms % 3600000 == 0)
    fprintf(out, "%lldh", (long long)(ms / 3600000));
  else if (ms % 60000 == 0)
    fprintf(out, "%lldm", (long long)(ms / 60000));
  else if (ms % 1000 == 0)
    fprintf(out, "%llds", (long long)(ms / 1000));
  else
    fprintf(out, "%lldms", (long long)ms);
}

/* The nodes whose identity `dsc plan` shows: those a checkpoint keeps
 * something of across batches (sources, windows, keyed state). */
static bool keeps_state(const PlanNode *n) {
  return n->op->cls == OC_SOURCE || n->op->cls == OC_WINDOW || n->op->kind == OP_UPDATESTATEBYKEY ||
         n->op->kind == OP_MAPWITHSTATE;
}

/* One line per node: "  #3 reduceByKey [counts] : stream<(string, int)> @5:4 <- #2",
 * then " id=IDENT" for the nodes that keep state. */
static void print_node(FILE *out, Arena *a, const PlanNode *n) {
  fprintf(out, "  #%d %s", n->id, n->op->name);
  if (n->op->cls == OC_WINDOW) {
    fputs("(", out);
    print_ms(out, n->window_ms);
    if (n->slide_ms) {
      fputs(", ", out);
      print_ms(out, n->slide_ms);
    }
    if (n->inverse)
      fputs(", inverse", out);
    fputs(")", out);
  }
  if (n->let_name.len)
    fprintf(out, " [%.*s]", (int)n->let_name.len, n->let_name.ptr);
  if (n->ty)
    fprintf(out, " : %s", type_str(a, n->ty));
  Loc loc = n->call->lhs && n->call->lhs->kind == EX_FIELD ? n->call->lhs->loc : n->call->loc;
  fprintf(out, " @%d:%d", loc.line, loc.col);
  for (int j = 0; j < n->inputs.len; j++)
    fprintf(out, "%s#%d", j ? ", " : " <- ", ((PlanNode *)n->inputs.items[j])->id);
  if (keeps_state(n))
    fprintf(out, " id=%s", n->ident);
  fputc('\n', out);
}

void plan_print(FILE *out, const Plan *plan, const Source *src) {
  Arena a = {0};
  const Settings *s = &plan->settings;
  const char *base = strrchr(src->path, '/');
  fprintf(out, "plan of %s: batch ", base ? base + 1 : src->path);
  print_ms(out, s->v[SET_BATCH].ival);
  fprintf(out, ", %d operators in %d stages, %d outputs\n", plan->nodes.len, plan->nstages,
          plan->outputs.len);
  for (int st = 1; st <= plan->nstages; st++) {
    const PlanNode *first = NULL;
    for (int i = 0; i < plan->nodes.len && !first; i++)
      if (((PlanNode *)plan->nodes.items[i])->stage == st)
        first = plan->nodes.items[i];
    const char *kind = "";
    switch (first->op->cls) {
    case OC_SOURCE: kind = "source"; break;
    case OC_ELEMENTWISE: kind = "element-wise"; break;
    case OC_BATCH: kind = "per batch"; break;
    case OC_WINDOW: kind = "window"; break;
    case OC_STATE: kind = "state"; break;
    case OC_OUTPUT: kind = "output"; break;
    }
    fprintf(out, "stage %d (%s):\n", st, kind);
    for (int i = 0; i < plan->nodes.len; i++) {
      const PlanNode *n = plan->nodes.items[i];
      if (n->stage == st)
        print_node(out, &a, n);
    }
  }
  arena_free(&a);
}

void plan_print_dot(FILE *out, const Plan *plan, const Source *src) {
  Arena a = {0};
  fprintf(out, "digraph plan {\n  label=\"%s\";\n  node [shape=box, fontname=\"monospace\"];\n",
          src->path);
  for (int st = 1; st <= plan->nstages; st++) {
    fprintf(out, "  subgraph cluster_%d {\n    label=\"stage %d\";\n", st, st);
    for (int i = 0; i < plan->nodes.len; i++) {
      const PlanNode *n = plan->nodes.items[i];
      if (n->stage != st)
        continue;
      fprintf(out, "    n%d [label=\"#%d %s", n->id, n->id, n->op->name);
      if (n->ty) {
        /* Escape the quotes Graphviz would choke on (types hold none, but be safe). */
        const char *t = type_str(&a, n->ty);
        fputs("\\n", out);
        for (; *t; t++) {
          if (*t == '"')
            fputc('\\', out);
          fputc(*t, out);
        }
      }
      fputs("\"];\n", out);
    }
    fputs("  }\n", out);
  }
  for (int i = 0; i < plan->nodes.len; i++) {
    const PlanNode *n = plan->nodes.items[i];
    for (int j = 0; j < n->inputs.len; j++)
      fprintf(out, "  n%d -> n%d;\n", ((PlanNode *)n->inputs.items[j])->id, n->id);
  }
  fputs("}\n", out);
  arena_free(&a);
}
