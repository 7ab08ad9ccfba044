/* Subcommands of the mimovk command line: one file each, one line in mimovk.c's table. */
#ifndef MVK_APP_COMMANDS_H
#define MVK_APP_COMMANDS_H

int cmd_devices(int argc, char **argv);
int cmd_bench_kernels(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif
