#include "cli/app.hpp"

int main(int argc, char** argv)
{
    return pitool::cli::run(argc, argv);
}
