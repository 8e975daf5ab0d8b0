/* The pod sandbox process of the local cluster: holds the pod's namespaces, reaps orphans, exits on
 * SIGINT/SIGTERM. Built here because no registry (and so no registry.k8s.io/pause) is reachable. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_terminate(int sig) {
  (void)sig;
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = on_terminate;
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
  action.sa_handler = on_child;
  action.sa_flags = SA_NOCLDSTOP;
  sigaction(SIGCHLD, &action, NULL);
  if (getpid() != 1) fprintf(stderr, "pause: not running as PID 1\n");
  for (;;) pause();
}
