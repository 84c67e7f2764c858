/*
 * settings.c — the names of the job settings of LANGUAGE.md §9.
 *
 * The table itself is settings.def; check.c validates `set` statements
 * against it and the runtime applies the same table to `--set NAME=VALUE`.
 */
#include "dsc.h"

static const char *const names[] = {
#define SETTING(kind, name, type, deflt) name,
#include "settings.def"
#undef SETTING
};

static const SettingType types[] = {
#define SETTING(kind, name, type, deflt) type,
#include "settings.def"
#undef SETTING
};

static const int64_t defaults[] = {
#define SETTING(kind, name, type, deflt) deflt,
#include "settings.def"
#undef SETTING
};

const char *setting_name(SettingKind k) { return names[k]; }
SettingType setting_type(SettingKind k) { return types[k]; }
int64_t setting_default(SettingKind k) { return defaults[k]; }

int setting_lookup(Str name) {
  for (int i = 0; i < SET__COUNT; i++)
    if (str_eq(name, names[i]))
      return i;
  return -1;
}
