"""Case work above the kernel: who supervises a lane, assigning tasks, the staff inbox query, saved inbox views."""
