package dev.iotjobs.localhub;
public final class Main { public static void main(String[] a) {} }
