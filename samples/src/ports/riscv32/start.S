/* start.S - reset entry of the RISC-V sample: set up sp and gp, call main. */
	.section .text.init, "ax"
	.global	_start
	.type	_start, @function
_start:
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop
	la	sp, _stack_top
	call	main
1:	j	1b
	.size	_start, . - _start
