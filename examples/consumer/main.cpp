// Links against an installed Cepheus (find_package(cep), cep::cep) and prints
// the library version: proof that the exported package works.

#include <iostream>

#include "cep/version.hpp"

int main() {
  std::cout << "cep_consumer: linked against cepheus " << cep::Version()
            << "\n";
  return 0;
}
